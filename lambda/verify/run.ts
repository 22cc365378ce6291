/**
 * The verifier's Lambda entry point: proves on the live account that the terminator's roles can do what they
 * must and nothing else, two ways: it reads every policy of each role and every resource-based policy that says
 * who may invoke its functions or use its bus, and refuses whatever lies outside what the construct grants and
 * wired (lambda/verify/enumerate.ts); and it asks IAM's simulator (lambda/verify/simulate.ts) about every check
 * (lambda/verify/checks.ts), which sees what reading alone cannot (conditions, how IAM combines statements).
 *
 * It answers the report (lambda/verify/report.ts) when every check passes, and throws
 * LeastPrivilegeViolationError, naming the first failures, when any fails: run as a CloudFormation trigger,
 * that fails the deployment with the message. It logs one line per failed check and a summary, and emits
 * `VerificationFailed` (1 unless least privilege was proven, so an invocation that could not ask IAM counts too).
 *
 * lambda/verify/handler.ts wires it at cold start.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { Context } from 'aws-lambda';
import { VERIFY_METRIC } from '../../lib/contract';
import { describeError } from '../errors';
import { buildChecks, type Check, type VerifyConfig } from './checks';
import { LeastPrivilegeViolationError } from './errors';
import { buildReport, type VerifyReport } from './report';
import { enumerate } from './enumerate';
import { type SimulateOptions, simulateChecks } from './simulate';

/** The verifier's collaborators; the module-scope instance wires the real ones. */
export interface VerifyDeps {
  readonly config: VerifyConfig;
  readonly iam: IAMClient;
  readonly lambda: LambdaClient;
  readonly events: EventBridgeClient;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Paging and retry settings (tests shorten the waits). */
  readonly simulate?: SimulateOptions;
  /**
   * Waits (ms) before checking again when a run did not prove least privilege. IAM is eventually consistent
   * (docs/facts.md, "IAM for SWF"): right after a deployment a new role or statement may not be visible yet,
   * and a verdict is only trusted when it holds a while. Default {@link SETTLE_DELAYS_MS}.
   */
  readonly settleDelaysMs?: readonly number[];
  /** Sleeps `ms` (tests pass a fake). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The waits before the second and third runs: a violation that outlasts them (about 30 s) is real. */
export const SETTLE_DELAYS_MS: readonly number[] = [10_000, 20_000];

export type VerifyContext = Pick<Context, 'awsRequestId'>;
export type VerifyHandler = (event: unknown, context: VerifyContext) => Promise<VerifyReport>;

/** The roles under check, for the summary line. */
function rolesOf(config: VerifyConfig): Record<string, string> {
  return {
    handler: config.handlerRoleArn,
    ...(config.controlRoleArn === undefined ? {} : { control: config.controlRoleArn }),
    ...(config.stateMachineRoleArn === undefined ? {} : { stateMachine: config.stateMachineRoleArn }),
    ...(config.restore === undefined ? {} : { restore: config.restore.roleArn }),
  };
}

/** One run: every check asked, the report built; throws unless least privilege was proven. */
async function verifyOnce(deps: VerifyDeps, checks: readonly Check[]): Promise<VerifyReport> {
  const { config, iam, logger } = deps;
  try {
    const findings = await enumerate(deps, config, deps.simulate);
    const { evaluations, calls } = await simulateChecks(iam, checks, deps.simulate);
    const report = buildReport(checks, evaluations, calls, findings);
    for (const f of report.findings) {
      logger.error('least privilege: a grant is refused', {
        subject: f.subject,
        policy: f.policy,
        statement: f.statement,
        ...(f.sid === undefined ? {} : { sid: f.sid }),
        action: f.action,
        resource: f.resource,
        ...(f.principal === undefined ? {} : { principal: f.principal }),
        why: f.why,
      });
    }
    for (const f of report.failures) {
      logger.error('least privilege check failed', {
        role: f.role,
        roleArn: f.roleArn,
        action: f.action,
        resource: f.resource,
        ...(f.context === undefined ? {} : { context: f.context }),
        expected: f.expected,
        actual: f.actual,
        why: f.why,
        matchedStatements: f.matchedStatements,
        detail: f.message,
      });
    }
    const summary = {
      refused: report.findings.length,
      checked: report.checked,
      failed: report.failed,
      calls,
      roles: rolesOf(config),
    };
    if (!report.ok) {
      logger.error('least privilege violated', summary);
      throw new LeastPrivilegeViolationError(report);
    }
    logger.info('least privilege verified', summary);
    return report;
  } catch (error: unknown) {
    if (!(error instanceof LeastPrivilegeViolationError)) {
      logger.error('least privilege could not be verified', { error: describeError(error) });
    }
    throw error;
  }
}

/** Builds a verifier around the given collaborators. The event is not read: what to check is configured. */
export function createVerifyHandler(deps: VerifyDeps): VerifyHandler {
  const { config, logger, metrics } = deps;
  // Built once: the configuration is fixed for the life of the handler.
  const checks = buildChecks(config);

  return async (_event, context) => {
    logger.addContext(context as Parameters<Logger['addContext']>[0]);
    let verificationFailed = 1;
    const delays = deps.settleDelaysMs ?? SETTLE_DELAYS_MS;
    const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    try {
      for (let attempt = 0; ; attempt += 1) {
        try {
          const report = await verifyOnce(deps, checks);
          verificationFailed = 0;
          return report;
        } catch (error: unknown) {
          const wait = delays[attempt];
          if (wait === undefined) throw error;
          logger.warn('least privilege not proven yet; IAM may still be propagating, checking again', {
            attempt: attempt + 1,
            waitMs: wait,
            error: describeError(error),
          });
          await sleep(wait);
        }
      }
    } finally {
      metrics.addMetric(VERIFY_METRIC, MetricUnit.Count, verificationFailed);
      metrics.publishStoredMetrics();
      logger.resetKeys();
    }
  };
}
