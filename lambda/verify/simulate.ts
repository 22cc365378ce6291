/**
 * Asks IAM itself: `SimulatePrincipalPolicy` evaluates every policy attached to a role (inline, managed,
 * its permissions boundary, the organization's SCPs) for each action on each resource, the same engine that
 * authorizes real calls, on the live account.
 *
 * One call answers every action on every resource it names, so checks are planned into few calls: per role,
 * resources that need the same actions share a call, and calls are merged while their answers still fit one
 * page ({@link MAX_RESULTS_PER_CALL}); answers nobody asked about are ignored. Pages are followed by `Marker`,
 * throttling is retried with the project's backoff (lambda/aws/swf-client.ts), anything else fails the run.
 * The client is lambda/verify/clients.ts's.
 */
import {
  type EvaluationResult,
  type IAMClient,
  SimulatePrincipalPolicyCommand,
  type SimulatePrincipalPolicyCommandOutput,
  type Statement,
} from '@aws-sdk/client-iam';
import { retryThrottled } from '../aws/swf-client';
import { describeError, echo } from '../errors';
import { type Check, type CheckContext, contextKey } from './checks';
import { SimulationFailedError } from './errors';
import { DECISIONS, type Decision, type Evaluation, evaluationKey, type MatchedStatement } from './report';

/** IAM's largest page of SimulatePrincipalPolicy results (its `MaxItems` range is 1-1000). */
export const MAX_ITEMS = 1000;
/** The most answers (actions x resources) a planned call may ask for: one page's worth. */
export const MAX_RESULTS_PER_CALL = MAX_ITEMS;
/** A call that is still truncated after this many pages is refused (IAM would be looping). */
export const MAX_PAGES_PER_CALL = 50;
/** One SimulatePrincipalPolicy question: every action on every resource, for one role. */
export interface SimulationCall {
  readonly roleArn: string;
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  /** The condition keys every answer of the call is asked with (`ContextEntries`); none when absent. */
  readonly context?: CheckContext;
}

interface Group {
  readonly actions: Set<string>;
  readonly resources: string[];
}

const answers = (g: Group) => g.actions.size * g.resources.length;

/**
 * Plans the calls that answer `checks`: per role (and per context: a call's condition keys apply to all of its
 * answers), as few as fit {@link MAX_RESULTS_PER_CALL} answers each.
 */
export function planCalls(checks: readonly Check[], maxResults = MAX_RESULTS_PER_CALL): SimulationCall[] {
  const byRole = new Map<
    string,
    { roleArn: string; context?: CheckContext; resources: Map<string, Set<string>> }
  >();
  for (const { roleArn, action, resource, context } of checks) {
    const key = `${roleArn}\n${contextKey(context)}`;
    const asked = byRole.get(key) ?? {
      roleArn,
      ...(context === undefined ? {} : { context }),
      resources: new Map<string, Set<string>>(),
    };
    byRole.set(key, asked);
    asked.resources.set(resource, (asked.resources.get(resource) ?? new Set<string>()).add(action));
  }
  const calls: SimulationCall[] = [];
  for (const { roleArn, context, resources } of byRole.values()) {
    const sameActions = new Map<string, Group>();
    for (const [resource, actions] of resources) {
      const key = [...actions].sort().join('\n');
      const group = sameActions.get(key) ?? { actions, resources: [] };
      sameActions.set(key, group);
      group.resources.push(resource);
    }
    const planned: Group[] = [];
    for (const group of [...sameActions.values()].sort((a, b) => answers(b) - answers(a))) {
      const fits = planned.find(
        (p) =>
          new Set([...p.actions, ...group.actions]).size * (p.resources.length + group.resources.length) <=
          maxResults,
      );
      if (fits === undefined) {
        planned.push({ actions: new Set(group.actions), resources: [...group.resources] });
      } else {
        group.actions.forEach((a) => fits.actions.add(a));
        fits.resources.push(...group.resources);
      }
    }
    calls.push(
      ...planned.map((p) => ({
        roleArn,
        actions: [...p.actions],
        resources: p.resources,
        ...(context === undefined ? {} : { context }),
      })),
    );
  }
  return calls;
}

export interface SimulateOptions {
  /** The wait between throttled attempts (tests make it instant). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Results per page asked of IAM; default {@link MAX_ITEMS}. */
  readonly maxItems?: number;
}

/** IAM's answers, keyed by {@link evaluationKey}, and how many calls (pages) they took. */
export interface Simulation {
  readonly evaluations: ReadonlyMap<string, Evaluation>;
  readonly calls: number;
}

function statementOf(s: Statement): MatchedStatement {
  const at = (p: Statement['StartPosition']) =>
    p?.Line === undefined || p.Column === undefined ? undefined : { line: p.Line, column: p.Column };
  return {
    sourcePolicyId: s.SourcePolicyId,
    sourcePolicyType: s.SourcePolicyType,
    start: at(s.StartPosition),
    end: at(s.EndPosition),
  };
}

function decisionOf(roleArn: string, value: string | undefined, what: string): Decision {
  const decision = DECISIONS.find((d) => d === value);
  if (decision === undefined) {
    throw new SimulationFailedError(roleArn, `IAM answered the unknown decision ${echo(value)} for ${what}`);
  }
  return decision;
}

interface Answer {
  readonly resource: string;
  readonly decision: string | undefined;
  readonly statements: readonly Statement[] | undefined;
  readonly missing: readonly string[] | undefined;
}

/**
 * The answers in one `EvaluationResult`. IAM answers each action on each resource with `EvalResourceName`
 * set; a result that lists `ResourceSpecificResults` instead is read per resource, so either shape is understood.
 */
function answersOf(result: EvaluationResult): Answer[] {
  const specific = result.ResourceSpecificResults ?? [];
  if (specific.length === 0) {
    return [
      {
        resource: result.EvalResourceName ?? '*',
        decision: result.EvalDecision,
        statements: result.MatchedStatements,
        missing: result.MissingContextValues,
      },
    ];
  }
  // A lone resource-specific entry may leave its statements to the result itself.
  const lone = specific.length === 1;
  return specific.map((r) => ({
    // A field IAM always sets; without it the answer matches no check, which then fails as missing.
    resource: r.EvalResourceName ?? '',
    decision: r.EvalResourceDecision,
    statements: r.MatchedStatements ?? (lone ? result.MatchedStatements : undefined),
    missing: r.MissingContextValues ?? (lone ? result.MissingContextValues : undefined),
  }));
}

function record(into: Map<string, Evaluation>, call: SimulationCall, result: EvaluationResult): void {
  const { roleArn } = call;
  const action = result.EvalActionName ?? '';
  for (const answer of answersOf(result)) {
    into.set(evaluationKey(roleArn, action, answer.resource, call.context), {
      decision: decisionOf(roleArn, answer.decision, `${action} on ${answer.resource}`),
      matchedStatements: (answer.statements ?? []).map(statementOf),
      missingContextValues: answer.missing ?? [],
    });
  }
}

async function page(
  iam: IAMClient,
  call: SimulationCall,
  marker: string | undefined,
  options: SimulateOptions,
): Promise<SimulatePrincipalPolicyCommandOutput> {
  const command = new SimulatePrincipalPolicyCommand({
    PolicySourceArn: call.roleArn,
    ActionNames: [...call.actions],
    ResourceArns: [...call.resources],
    MaxItems: options.maxItems ?? MAX_ITEMS,
    ...(call.context === undefined
      ? {}
      : {
          ContextEntries: Object.entries(call.context).map(([ContextKeyName, value]) => ({
            ContextKeyName,
            ContextKeyValues: [value],
            ContextKeyType: 'string' as const,
          })),
        }),
    ...(marker === undefined ? {} : { Marker: marker }),
  });
  try {
    return await retryThrottled(() => iam.send(command), options.sleep);
  } catch (error: unknown) {
    throw new SimulationFailedError(call.roleArn, describeError(error));
  }
}

/**
 * Asks IAM about every check. Calls run one after the other: there are few, and IAM's request rate is an
 * account-wide quota shared with everything else that manages IAM.
 *
 * @throws SimulationFailedError when IAM cannot answer (the run proves nothing then).
 */
export async function simulateChecks(
  iam: IAMClient,
  checks: readonly Check[],
  options: SimulateOptions = {},
): Promise<Simulation> {
  const evaluations = new Map<string, Evaluation>();
  let calls = 0;
  for (const call of planCalls(checks)) {
    let marker: string | undefined;
    for (let pages = 1; ; pages++) {
      const answer = await page(iam, call, marker, options);
      calls++;
      for (const result of answer.EvaluationResults ?? []) record(evaluations, call, result);
      if (answer.IsTruncated !== true) break;
      if (answer.Marker === undefined || answer.Marker === '') {
        throw new SimulationFailedError(call.roleArn, 'IAM said its answer was truncated but gave no Marker');
      }
      if (pages >= MAX_PAGES_PER_CALL) {
        throw new SimulationFailedError(
          call.roleArn,
          `IAM's answer was still truncated after ${pages} pages`,
        );
      }
      marker = answer.Marker;
    }
  }
  return { evaluations, calls };
}
