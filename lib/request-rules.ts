/**
 * The rules that route requests from the terminator's bus: termination requests for the chosen domains to the
 * terminating function, requests without a domain (abort, status, jobs) to the control function.
 */
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { validateEventPatternLength } from './validation';

/** What the rules are made from. */
export interface RequestRulesProps {
  readonly eventBus: events.IEventBus;
  readonly requestSource: string;
  readonly requestDetailType: string;
  readonly domains: readonly string[];
  readonly handler: lambda.IFunction;
  readonly controlHandler: lambda.IFunction;
  /** Retries and the dead-letter queue, the same for every target. */
  readonly targetOptions: targets.LambdaFunctionProps;
}

export function createRequestRules(
  scope: Construct,
  props: RequestRulesProps,
): { rule: events.Rule; controlRule: events.Rule } {
  const { eventBus, requestSource, requestDetailType } = props;
  const eventPattern: events.EventPattern = {
    source: [requestSource],
    detailType: [requestDetailType],
    detail: { domain: [...props.domains] },
  };
  validateEventPatternLength(eventPattern);
  const rule = new events.Rule(scope, 'Rule', {
    eventBus,
    description: 'Routes SWF termination requests for the chosen domains to the terminator',
    eventPattern,
  });
  rule.addTarget(new targets.LambdaFunction(props.handler, props.targetOptions));

  // Control requests name a job, not a domain: the requests without a domain go to the control function,
  // which takes abort, status and jobs requests and refuses anything else. (EventBridge's `exists` sees only
  // leaf values, so `{ "jobs": {} }` could not be matched by its own key.) Anyone who may put a request on
  // the bus may stop a job.
  const controlRule = new events.Rule(scope, 'ControlRule', {
    eventBus,
    description: 'Routes requests to stop, describe or list terminator jobs to its control function',
    eventPattern: {
      source: [requestSource],
      detailType: [requestDetailType],
      detail: { domain: [{ exists: false }] },
    },
  });
  controlRule.addTarget(new targets.LambdaFunction(props.controlHandler, props.targetOptions));
  return { rule, controlRule };
}
