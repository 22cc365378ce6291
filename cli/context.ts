/**
 * What every command works with: where it writes, the AWS clients, the terminator it found; and the one
 * way a function's answer becomes text: a refusal is shown as the handler worded it (the field and the rule).
 */
import { REQUEST_REFUSALS } from '../lib/contract';
import type { Aws, InvokeAnswer } from './aws';
import { CommandError, EXIT } from './exit-codes';
import type { Terminator } from './locate';
import type { Ui } from './ui';

export interface Context {
  readonly ui: Ui;
  readonly aws: Aws;
  readonly terminator: Terminator;
}

/** Said once while a busy function (its reserved concurrency taken: a job, another request) is waited for. */
const busyNote = (ctx: Context) => (attempt: number) => {
  if (attempt === 1)
    ctx.ui.err(ctx.ui.c.yellow('The terminator is busy (a job is working); waiting for it...'));
};

/** Sends `payload` to the terminating function (`once`: a request that acts, see Aws.invoke). */
export function callHandler(ctx: Context, payload: unknown, once = false): Promise<InvokeAnswer> {
  return ctx.aws.invoke(ctx.terminator.handler, payload, { once, onBusy: busyNote(ctx) });
}

/**
 * Sends a request that acts (a termination, a restore) to `fn`, once. An answer lost on the way (a dropped
 * connection, a timeout) is not sent again: the request may have run, and `whereToLook` tells the operator.
 */
export async function sendOnce(
  ctx: Context,
  fn: string,
  payload: unknown,
  whereToLook: string,
): Promise<InvokeAnswer> {
  try {
    return await ctx.aws.invoke(fn, payload, { once: true, onBusy: busyNote(ctx) });
  } catch (error) {
    const { name, message } = error as Error;
    throw new CommandError(
      `No answer came back for the request (${name}: ${message.slice(0, 200)}); it is not sent again. ` +
        `It may have run: ${whereToLook}`,
      EXIT.unreachable,
    );
  }
}

/** Sends a control request (status, jobs, abort) to the control function; its answer, or a CommandError. */
export async function callControl<T>(ctx: Context, payload: unknown): Promise<T> {
  const answer = await ctx.aws.invoke(ctx.terminator.control, payload);
  if (!answer.ok) throw failure(answer);
  return answer.value as T;
}

/** True when the function refused the request (nothing was acted on). */
export const isRefusal = (answer: InvokeAnswer): boolean =>
  !answer.ok && (REQUEST_REFUSALS as readonly string[]).includes(answer.errorType);

/** A function's error as the command's: a refusal (exit 2), failed executions (exit 1), anything else (5). */
export function failure(answer: Extract<InvokeAnswer, { ok: false }>): CommandError {
  if (isRefusal(answer)) return new CommandError(`Refused: ${answer.errorMessage}`, EXIT.refused);
  if (answer.errorType === 'TerminationFailedError') {
    return new CommandError(`Some executions failed: ${answer.errorMessage}`, EXIT.failed);
  }
  return new CommandError(
    `The terminator failed: ${answer.errorType}: ${answer.errorMessage}`,
    EXIT.unreachable,
  );
}
