/**
 * The flags of `terminate`, `cancel` and `preview`, turned into a request: every flag is one request field
 * (README, "The request"). Only the shape is checked here (which flags go together, durations, the list
 * file); the terminator checks every value, and its refusal names the field and the rule.
 */
import type { ExecutionWire } from '../lib/contract';
import { parseDuration } from './durations';
import { usageError } from './exit-codes';

/** The flags as commander parsed them. */
export interface RequestFlags {
  readonly domain?: string;
  readonly workflowId?: string;
  readonly runId?: string;
  readonly file?: string;
  readonly tag?: string;
  readonly type?: string;
  readonly idPrefix?: string;
  readonly startedAfter?: string;
  readonly startedBefore?: string;
  readonly openLongerThan?: string;
  readonly stalled?: boolean;
  readonly idleLongerThan?: string;
  readonly reason?: string;
  readonly details?: string;
  readonly childPolicy?: string;
  readonly thenTerminateAfter?: string;
  readonly request?: string;
}

export type CommandAction = 'terminate' | 'cancel';

/** Reads a file's text, `-` being standard input. */
export type ReadText = (path: string) => string;

const SELECTOR_FLAGS = [
  'tag',
  'type',
  'idPrefix',
  'startedAfter',
  'startedBefore',
  'openLongerThan',
  'stalled',
  'idleLongerThan',
] as const satisfies readonly (keyof RequestFlags)[];

const flagName = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** The request the flags describe (without dryRun and maxExecutions: the preview flow sets those). */
export function requestFromFlags(
  flags: RequestFlags,
  action: CommandAction,
  readText: ReadText,
): Record<string, unknown> {
  const selectorGiven = SELECTOR_FLAGS.filter((key) => flags[key] !== undefined && flags[key] !== false);
  if (flags.request !== undefined) return requestFile(flags, selectorGiven, readText);

  if (flags.domain === undefined) throw usageError('--domain', 'is required (the SWF domain to act in)');
  const targets = [
    flags.workflowId === undefined ? undefined : '--workflow-id',
    flags.file === undefined ? undefined : '--file',
    selectorGiven.length === 0 ? undefined : 'a selector (--tag, --type, ...)',
  ].filter((t) => t !== undefined);
  if (targets.length !== 1) {
    throw usageError(
      'target',
      targets.length === 0
        ? 'give one execution (--workflow-id), a list (--file, or - for standard input) or a selector (--tag, --type, --id-prefix, --started-before, --open-longer-than, ...)'
        : `give only one of ${targets.join(', ')}`,
    );
  }
  if (flags.runId !== undefined && flags.workflowId === undefined) {
    throw usageError('--run-id', 'goes with --workflow-id');
  }

  const request: Record<string, unknown> = { domain: flags.domain };
  if (flags.workflowId !== undefined) {
    request.workflowId = flags.workflowId;
    if (flags.runId !== undefined) request.runId = flags.runId;
  } else if (flags.file !== undefined) {
    request.executions = executionsFrom(flags.file, readText(flags.file));
  } else {
    request.selector = selectorFrom(flags);
  }
  Object.assign(request, actionFields(flags, action));
  if (flags.reason !== undefined) request.reason = flags.reason;
  if (flags.details !== undefined) request.details = flags.details;
  if (flags.childPolicy !== undefined) request.childPolicy = flags.childPolicy.toUpperCase();
  return request;
}

/** `--request FILE`: sent as it is, so no flag may add to it (a flag that changed nothing would mislead). */
function requestFile(
  flags: RequestFlags,
  selectorGiven: readonly string[],
  readText: ReadText,
): Record<string, unknown> {
  const extra = [
    ...selectorGiven,
    ...(
      [
        'domain',
        'workflowId',
        'runId',
        'file',
        'reason',
        'details',
        'childPolicy',
        'thenTerminateAfter',
      ] as const
    ).filter((key) => flags[key] !== undefined),
  ];
  if (extra.length > 0) {
    throw usageError('--request', `sends the file as it is; drop ${extra.map(flagName).join(', ')}`);
  }
  const text = readText(flags.request ?? '');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw usageError('--request', `must be a JSON request (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw usageError('--request', 'must hold one JSON object: a request');
  }
  return value as Record<string, unknown>;
}

function actionFields(flags: RequestFlags, action: CommandAction): Record<string, unknown> {
  if (action === 'terminate') {
    if (flags.thenTerminateAfter !== undefined) {
      throw usageError(
        '--then-terminate-after',
        'goes with cancel (cancel, then terminate what is still open)',
      );
    }
    return {};
  }
  if (flags.childPolicy !== undefined && flags.thenTerminateAfter === undefined) {
    throw usageError(
      '--child-policy',
      'is a termination setting: cancel takes it only with --then-terminate-after',
    );
  }
  if (flags.thenTerminateAfter === undefined) return { action: 'requestCancel' };
  return {
    action: 'cancelThenTerminate',
    gracePeriodSeconds: parseDuration('--then-terminate-after', flags.thenTerminateAfter),
  };
}

function selectorFrom(flags: RequestFlags): Record<string, unknown> {
  const selector: Record<string, unknown> = {};
  if (flags.tag !== undefined) selector.tag = flags.tag;
  if (flags.type !== undefined) {
    const at = flags.type.lastIndexOf(':');
    selector.workflowType =
      at < 0 ? { name: flags.type } : { name: flags.type.slice(0, at), version: flags.type.slice(at + 1) };
  }
  if (flags.idPrefix !== undefined) selector.workflowIdPrefix = flags.idPrefix;
  if (flags.startedAfter !== undefined) selector.startedAfter = flags.startedAfter;
  if (flags.startedBefore !== undefined) selector.startedBefore = flags.startedBefore;
  if (flags.openLongerThan !== undefined) {
    selector.openLongerThanSeconds = parseDuration('--open-longer-than', flags.openLongerThan);
  }
  if (flags.stalled === true) selector.stalled = true;
  if (flags.idleLongerThan !== undefined) {
    selector.idleLongerThanSeconds = parseDuration('--idle-longer-than', flags.idleLongerThan);
  }
  return selector;
}

/**
 * A list file: a JSON array (of workflowIds, or of `{ workflowId, runId? }`), or one execution per line
 * (`workflowId` or `workflowId runId`; blank lines and `#` comments skipped).
 */
export function executionsFrom(path: string, text: string): ExecutionWire[] {
  const flag = path === '-' ? 'standard input' : '--file';
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      throw usageError(flag, `is not valid JSON (${(error as Error).message})`);
    }
    return (value as unknown[]).map((item, i): ExecutionWire => {
      if (typeof item === 'string') return { workflowId: item };
      if (
        typeof item === 'object' &&
        item !== null &&
        typeof (item as { workflowId?: unknown }).workflowId === 'string'
      ) {
        const { workflowId, runId } = item as { workflowId: string; runId?: unknown };
        return typeof runId === 'string' ? { workflowId, runId } : { workflowId };
      }
      throw usageError(`${flag} [${i}]`, 'must be a workflowId or { "workflowId": ..., "runId"?: ... }');
    });
  }
  const executions = trimmed
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line, i): ExecutionWire => {
      const fields = line.split(/\s+/);
      if (fields.length > 2)
        throw usageError(`${flag} line ${i + 1}`, 'must be "workflowId" or "workflowId runId"');
      return fields[1] === undefined
        ? { workflowId: fields[0] ?? '' }
        : { workflowId: fields[0] ?? '', runId: fields[1] };
    });
  if (executions.length === 0) throw usageError(flag, 'names no execution');
  return executions;
}
