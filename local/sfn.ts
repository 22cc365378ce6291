/**
 * A local stand-in for AWS Step Functions that the real `@aws-sdk/client-sfn` can talk to, running the
 * terminator's state machine definition (as synthesized) with the `aws-local-stepfunctions` interpreter and
 * its chunk task routed to a local function that plays the Lambda handler.
 *
 * Wire protocol (AWS JSON 1.0, like SWF): `POST /` with `X-Amz-Target: AWSStepFunctions.<Operation>` and a
 * JSON body; errors are HTTP 400 with `__type` naming the error. Operations: StartExecution (idempotent for
 * the same name and input while running, else `ExecutionAlreadyExists`), DescribeExecution, StopExecution,
 * GetExecutionHistory (the chunk's `TaskStateEntered` and `TaskStateExited` events, the exits with their
 * output, and each attempt's `LambdaFunctionStarted` and `LambdaFunctionSucceeded` / `LambdaFunctionFailed`),
 * ListExecutions, and RedriveExecution (of a FAILED or ABORTED execution: it runs again from its
 * start with the input its last chunk had, which is where a redrive of this state machine resumes, and
 * DescribeExecution counts it in `redriveCount`).
 *
 * Like Lambda behind Step Functions: a chunk's event and answer go through JSON; an error thrown by the local
 * function reaches the state machine as `Error` = its name and `Cause` = `{"errorMessage","errorType"}`; at
 * most `concurrency` chunks run at once (the function's reserved concurrency), more are refused with
 * `Lambda.TooManyRequestsException`; stopping an execution does not interrupt a running chunk.
 */
import './promise-with-resolvers';
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import { endpointOf, listenOnLoopback } from './server';
import { type RunOptions, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type { Template } from 'aws-cdk-lib/assertions';
import { JOB_EVENT_KEY, JOB_WAIT_STATE } from '../lib/contract';

type Json = Parameters<StateMachine['run']>[0];
type LocalHandler = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>[string];

/** What a chunk's function gets besides its event: a Lambda context. */
export interface ChunkContext {
  readonly awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

export interface FakeSfnOptions {
  /** The state machine definition (see {@link definitionFromTemplate}). */
  readonly definition: object;
  readonly stateMachineArn: string;
  /** The chunk's function: the handler, invoked as Lambda would. */
  readonly invoke: (event: unknown, context: ChunkContext) => Promise<unknown>;
  /** Chunks that may run at once (the function's reserved concurrency). Default: unlimited. */
  readonly concurrency?: number;
  /** The function's timeout, for `getRemainingTimeInMillis` (ms). Default 300,000. */
  readonly functionTimeoutMs?: number;
  /**
   * Waits between retries of the chunk state, per retrier in the definition's order (ms). Default: 0 for a
   * refusal, 200 for a busy function, 20 for other errors: real waits of seconds would only slow the tests.
   */
  readonly retryIntervalsMs?: number[];
  /** The name of the task state to route to `invoke`. Default 'Chunk'. */
  readonly chunkState?: string;
  /**
   * Other task states, each routed to a function of its own (the restore function's `RestoreChunk`): invoked
   * like `invoke`, with the same retries, timeout and concurrency accounting.
   */
  readonly otherTasks?: Readonly<Record<string, (event: unknown, context: ChunkContext) => Promise<unknown>>>;
  /**
   * Shortens the wait state (`waitState`): each time an execution enters it, it waits this many ms instead of
   * until its time (aws-local-stepfunctions' `waitTimeOverrides`). Default: the time the definition gives (a
   * job's grace period waits until its `notBefore`).
   */
  readonly waitMs?: number;
  /** The name of the wait state `waitMs` shortens. Default {@link JOB_WAIT_STATE} ('GracePeriod'). */
  readonly waitState?: string;
  /**
   * The clock an execution's start and stop dates read (ms since the epoch), e.g. the invocation time a test
   * gives the handler, so that a job compares another job's stop date with its own `now`. Default `Date.now`.
   */
  readonly now?: () => number;
}

/** One step of an execution, named as Step Functions' history names it (`WaitStateEntered`, ...). */
export interface StateTransition {
  /** `<StateType>State<Entered|Exited>`: `WaitStateEntered`, `TaskStateExited`, `ChoiceStateEntered`, ... */
  readonly type: string;
  /** The state's name (`GracePeriod`, `Chunk`, `NextStep`, ...). */
  readonly name: string;
  /** `Date.now()` when it happened. */
  readonly at: number;
}

/** One execution the fake knows. */
export interface FakeExecution {
  readonly name: string;
  readonly arn: string;
  readonly input: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';
  readonly startDate: number;
  stopDate?: number;
  output?: string;
  error?: string;
  cause?: string;
  /** Times it was redriven. */
  redriveCount?: number;
  /** History events (oldest first): TaskStateEntered and TaskStateExited (with its output) of each chunk. */
  readonly events: Record<string, unknown>[];
  /**
   * Every state entered and exited (oldest first), the wait and choice states included: the whole history as
   * the console shows it. `events` (what GetExecutionHistory answers) keeps only the chunks' exits.
   */
  readonly transitions: StateTransition[];
  /** Every chunk event given to the function, the invocation's request id, and what happened. */
  readonly chunks: { event: unknown; outcome: 'answered' | 'threw' | 'refused'; requestId?: string }[];
  /** Settles when the execution stops. */
  finished: Promise<void>;
  abort?: () => void;
}

class SfnError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** A synthesized template, as JSON. */
export interface TemplateJson {
  readonly Resources: Record<
    string,
    {
      readonly Type: string;
      readonly Properties?: Record<string, unknown>;
      readonly Metadata?: Record<string, unknown>;
    }
  >;
}

/** Renders the synthesized state machine's DefinitionString, with the function's ARN made concrete. */
export function definitionFromTemplate(template: Template | TemplateJson, functionArn: string): object {
  const json = 'toJSON' in template ? (template.toJSON() as TemplateJson) : template;
  const machines = Object.values(json.Resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
  if (machines.length !== 1) throw new Error(`expected one state machine, found ${machines.length}`);
  const render = (value: unknown): string => {
    if (typeof value === 'string') return value;
    const v = value as Record<string, unknown>;
    if (Array.isArray(v['Fn::Join'])) {
      const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(render).join(separator);
    }
    if (Array.isArray(v['Fn::GetAtt'])) return functionArn;
    throw new Error(`definitionFromTemplate: unexpected ${JSON.stringify(value)}`);
  };
  return JSON.parse(render(machines[0]?.Properties?.DefinitionString)) as object;
}

export class FakeSfnServer {
  readonly executions = new Map<string, FakeExecution>();
  /** Milliseconds added before every API answer from now on (a slow Step Functions). */
  latencyMs = 0;
  private readonly machine: StateMachine;
  private running = 0;
  /** The most chunks that ran at once. */
  peakConcurrency = 0;

  private constructor(
    private readonly options: FakeSfnOptions,
    private readonly server: http.Server,
  ) {
    this.machine = new StateMachine(options.definition as StateMachineDefinition, {
      validationOptions: { checkArn: false, checkPaths: true },
    });
  }

  /** Now, as the execution dates read it ({@link FakeSfnOptions.now}). */
  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  static async start(options: FakeSfnOptions): Promise<FakeSfnServer> {
    const server = http.createServer();
    const fake = new FakeSfnServer(options, server);
    server.on('request', (req, res) => {
      fake.handle(req, res);
    });
    await listenOnLoopback(server);
    return fake;
  }

  get endpoint(): string {
    return endpointOf(this.server);
  }

  /** The execution ARN of a name. */
  executionArn(name: string): string {
    return `${this.options.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  }

  /** Waits until the execution of `name` stops; answers it. */
  async finished(name: string): Promise<FakeExecution> {
    const execution = this.executions.get(name);
    if (execution === undefined) throw new Error(`fake-sfn: no execution ${name}`);
    await execution.finished;
    return execution;
  }

  /** Stops every execution still running, then the server. */
  async close(): Promise<void> {
    for (const e of this.executions.values()) if (e.status === 'RUNNING') this.stop(e, 'closing');
    await Promise.all([...this.executions.values()].map((e) => e.finished));
    await new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
    });
  }

  /** Starts an execution directly (as StartExecution does). */
  startExecution(name: string, input: string): FakeExecution {
    const existing = this.executions.get(name);
    if (existing !== undefined) {
      if (existing.status === 'RUNNING' && existing.input === input) return existing;
      throw new SfnError('ExecutionAlreadyExists', `Execution Already Exists: '${existing.arn}'`);
    }
    const arn = this.executionArn(name);
    const execution: FakeExecution = {
      name,
      arn,
      input,
      status: 'RUNNING',
      startDate: this.now(),
      events: [],
      transitions: [],
      chunks: [],
      finished: Promise.resolve(),
    };
    this.executions.set(name, execution);
    this.run(execution, input);
    return execution;
  }

  /** Redrives a FAILED or ABORTED execution: it runs again with the input its last chunk had. */
  redrive(name: string): FakeExecution {
    const execution = this.executions.get(name);
    if (execution === undefined || (execution.status !== 'FAILED' && execution.status !== 'ABORTED')) {
      throw new SfnError('ExecutionNotRedrivable', `Execution cannot be redriven: '${name}'`);
    }
    const last = execution.chunks.at(-1)?.event as Record<string, unknown> | undefined;
    const input = last === undefined ? execution.input : JSON.stringify(last[JOB_EVENT_KEY]);
    execution.status = 'RUNNING';
    execution.redriveCount = (execution.redriveCount ?? 0) + 1;
    delete execution.stopDate;
    delete execution.error;
    delete execution.cause;
    this.run(execution, input);
    return execution;
  }

  /** Runs the definition for `execution` from its start with `input`. */
  private run(execution: FakeExecution, input: string): void {
    const { name, arn } = execution;
    let settle: () => void = () => undefined;
    execution.finished = new Promise<void>((resolve) => {
      settle = resolve;
    });
    const chunkState = this.options.chunkState ?? 'Chunk';
    const run = this.machine.run(JSON.parse(input) as Json, {
      overrides: {
        taskResourceLocalHandlers: {
          [chunkState]: this.chunkHandler(execution, this.options.invoke),
          ...Object.fromEntries(
            Object.entries(this.options.otherTasks ?? {}).map(([state, invoke]) => [
              state,
              this.chunkHandler(execution, invoke),
            ]),
          ),
        },
        retryIntervalOverrides: Object.fromEntries(
          [chunkState, ...Object.keys(this.options.otherTasks ?? {})].map((state) => [
            state,
            this.options.retryIntervalsMs ?? [0, 200, 20],
          ]),
        ),
        ...(this.options.waitMs === undefined
          ? {}
          : { waitTimeOverrides: { [this.options.waitState ?? JOB_WAIT_STATE]: this.options.waitMs } }),
      },
      context: { Execution: { Id: arn, Name: name } },
      noThrowOnAbort: true,
    });
    execution.abort = run.abort;
    void this.collectEvents(execution, run.eventLogs);
    run.result.then(
      (output) => {
        if (execution.status === 'RUNNING') {
          execution.status = 'SUCCEEDED';
          execution.output = JSON.stringify(output);
          execution.stopDate = this.now();
        }
        settle();
      },
      (error: unknown) => {
        if (execution.status === 'RUNNING') {
          const cause = (error as { cause?: { name?: string; message?: string } }).cause;
          execution.status = 'FAILED';
          execution.error = cause?.name ?? 'States.Runtime';
          execution.cause = cause?.message ?? String(error);
          execution.stopDate = this.now();
        }
        settle();
      },
    );
  }

  private stop(execution: FakeExecution, cause?: string): void {
    execution.status = 'ABORTED';
    execution.stopDate = this.now();
    if (cause !== undefined) execution.cause = cause;
    execution.abort?.();
  }

  /** The chunk state's task: the function, invoked the way Step Functions invokes Lambda. */
  private chunkHandler(
    execution: FakeExecution,
    invoke: (event: unknown, context: ChunkContext) => Promise<unknown>,
  ): LocalHandler {
    return async (input) => {
      // A stopped execution starts no task (the interpreter may still try one after an abort).
      if (execution.status !== 'RUNNING') {
        throw Object.assign(new Error('execution stopped'), { name: 'States.Runtime' });
      }
      const event = JSON.parse(JSON.stringify(input)) as unknown;
      if (this.options.concurrency !== undefined && this.running >= this.options.concurrency) {
        execution.chunks.push({ event, outcome: 'refused' });
        throw Object.assign(new Error('Rate Exceeded.'), { name: 'Lambda.TooManyRequestsException' });
      }
      this.running += 1;
      this.peakConcurrency = Math.max(this.peakConcurrency, this.running);
      const started = Date.now();
      const timeout = this.options.functionTimeoutMs ?? 300_000;
      const requestId = randomUUID();
      // The attempt's own events, as Step Functions records a Lambda task's.
      const record = (type: string) => {
        execution.events.push({ id: execution.events.length + 1, timestamp: Date.now() / 1000, type });
      };
      record('LambdaFunctionStarted');
      try {
        const answer = await invoke(event, {
          awsRequestId: requestId,
          getRemainingTimeInMillis: () => Math.max(0, timeout - (Date.now() - started)),
        });
        execution.chunks.push({ event, outcome: 'answered', requestId });
        record('LambdaFunctionSucceeded');
        return JSON.parse(JSON.stringify(answer ?? null)) as Json;
      } catch (error: unknown) {
        execution.chunks.push({ event, outcome: 'threw', requestId });
        record('LambdaFunctionFailed');
        const e = error instanceof Error ? error : new Error(String(error));
        // What Step Functions reports for a Lambda function's error.
        throw Object.assign(new Error(JSON.stringify({ errorMessage: e.message, errorType: e.name })), {
          name: e.name,
        });
      } finally {
        this.running -= 1;
      }
    };
  }

  private async collectEvents(execution: FakeExecution, logs: AsyncGenerator): Promise<void> {
    for await (const log of logs) {
      const event = log as {
        type: string;
        timestamp: number;
        state?: { name: string; type: string; output?: unknown };
      };
      if ((event.type === 'StateEntered' || event.type === 'StateExited') && event.state !== undefined) {
        const step = event.type === 'StateEntered' ? 'Entered' : 'Exited';
        execution.transitions.push({
          type: `${event.state.type}State${step}`,
          name: event.state.name,
          at: event.timestamp,
        });
      }
      if (event.type === 'StateEntered' && event.state?.type === 'Task') {
        execution.events.push({
          id: execution.events.length + 1,
          timestamp: event.timestamp / 1000,
          type: 'TaskStateEntered',
          stateEnteredEventDetails: { name: event.state.name },
        });
      }
      if (event.type === 'StateExited' && event.state?.type === 'Task') {
        execution.events.push({
          id: execution.events.length + 1,
          timestamp: event.timestamp / 1000,
          type: 'TaskStateExited',
          stateExitedEventDetails: { name: event.state.name, output: JSON.stringify(event.state.output) },
        });
      }
    }
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.replace(/^AWSStepFunctions\./, '');
      let status = 200;
      let body: unknown;
      try {
        body = this.operate(
          operation,
          JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>,
        );
      } catch (error: unknown) {
        status = 400;
        const e = error instanceof SfnError ? error : new SfnError('InvalidArn', String(error));
        body = { __type: e.type, message: e.message };
      }
      // The answer reports the state when the call arrived, however late it comes (latencyMs).
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify(body));
      };
      if (this.latencyMs > 0) setTimeout(send, this.latencyMs);
      else send();
    });
  }

  private byArn(arn: unknown): FakeExecution {
    const execution = [...this.executions.values()].find((e) => e.arn === arn);
    if (execution === undefined)
      throw new SfnError('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(arn)}'`);
    return execution;
  }

  private operate(operation: string, body: Record<string, unknown>): unknown {
    const seconds = (ms: number) => ms / 1000;
    switch (operation) {
      case 'StartExecution': {
        if (body.stateMachineArn !== this.options.stateMachineArn) {
          throw new SfnError(
            'StateMachineDoesNotExist',
            `State Machine Does Not Exist: '${String(body.stateMachineArn)}'`,
          );
        }
        const e = this.startExecution(String(body.name), String(body.input));
        return { executionArn: e.arn, startDate: seconds(e.startDate) };
      }
      case 'DescribeExecution': {
        const e = this.byArn(body.executionArn);
        return {
          executionArn: e.arn,
          stateMachineArn: this.options.stateMachineArn,
          name: e.name,
          status: e.status,
          startDate: seconds(e.startDate),
          input: e.input,
          ...(e.stopDate === undefined ? {} : { stopDate: seconds(e.stopDate) }),
          ...(e.output === undefined ? {} : { output: e.output }),
          ...(e.error === undefined ? {} : { error: e.error }),
          ...(e.cause === undefined ? {} : { cause: e.cause }),
          ...(e.redriveCount === undefined ? {} : { redriveCount: e.redriveCount }),
        };
      }
      case 'RedriveExecution': {
        const e = this.byArn(body.executionArn);
        this.redrive(e.name);
        return { redriveDate: seconds(this.now()) };
      }
      case 'StopExecution': {
        const e = this.byArn(body.executionArn);
        if (e.status === 'RUNNING') this.stop(e, typeof body.cause === 'string' ? body.cause : undefined);
        return { stopDate: seconds(e.stopDate ?? this.now()) };
      }
      case 'GetExecutionHistory': {
        const e = this.byArn(body.executionArn);
        const events = body.reverseOrder === true ? [...e.events].reverse() : [...e.events];
        const start = typeof body.nextToken === 'string' ? Number(body.nextToken) : 0;
        const size = typeof body.maxResults === 'number' ? body.maxResults : 100;
        const page = events.slice(start, start + size);
        return { events: page, ...(start + size < events.length ? { nextToken: String(start + size) } : {}) };
      }
      case 'ListExecutions': {
        const all = [...this.executions.values()]
          .filter((e) => body.statusFilter === undefined || e.status === body.statusFilter)
          .sort((a, b) => b.startDate - a.startDate)
          .slice(0, typeof body.maxResults === 'number' ? body.maxResults : 100);
        return {
          executions: all.map((e) => ({
            executionArn: e.arn,
            stateMachineArn: this.options.stateMachineArn,
            name: e.name,
            status: e.status,
            startDate: seconds(e.startDate),
            ...(e.stopDate === undefined ? {} : { stopDate: seconds(e.stopDate) }),
          })),
        };
      }
      default:
        throw new SfnError('UnknownOperationException', `fake-sfn does not implement ${operation}`);
    }
  }
}
