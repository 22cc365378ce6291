/**
 * The measured half of bench/job.ts, run in its own process (bundled with esbuild before it runs): the
 * fake Step Functions server running the synthesized state machine (BENCH_DEFINITION), with the deployed
 * entry point (lambda/handler.ts's `handler`) as its chunk's function, against the fake SWF of another
 * process (AWS_ENDPOINT_URL_SWF). It sends BENCH_REQUEST with little time left, so that it becomes a job,
 * waits for the job to end (after sending an abort BENCH_ABORT_AFTER_MS after the start, if set), and answers
 * the parent with a {@link JobRun}.
 */
import { answerParent, type ChildError, env, type HandlerFn } from './child-result';
import { type MemoryPeak, sampler } from './memory';
import { FakeSfnServer } from '../test/support/fake-sfn';

export type JobRun =
  | {
      status: 'ok';
      /** Date.now() when the request was sent, when the abort was sent (if any), when the job ended. */
      startedAt: number;
      abortAt?: number;
      endedAt: number;
      jobState: string;
      chunks: number;
      memory: MemoryPeak;
    }
  | ChildError;

async function run(): Promise<JobRun> {
  const stateMachineArn = env('STATE_MACHINE_ARN');
  // Loaded once the fake's endpoint is known (the handler reads its settings when it loads).
  const loaded: { handler?: HandlerFn } = {};
  const sfn = await FakeSfnServer.start({
    definition: JSON.parse(env('BENCH_DEFINITION')) as object,
    stateMachineArn,
    // The function's reserved concurrency: one rate share.
    concurrency: 1,
    functionTimeoutMs: 900_000,
    invoke: (event, context) => {
      if (loaded.handler === undefined) throw new Error('the handler is not loaded');
      return loaded.handler(event, context);
    },
  });
  // The handler creates its Step Functions client on first use, from the standard settings.
  process.env.AWS_ENDPOINT_URL_SFN = sfn.endpoint;
  const { handler } = (await import('../lambda/handler')) as unknown as { handler: HandlerFn };
  loaded.handler = handler;

  global.gc?.();
  // A full GC every second (needs --expose-gc) samples the live heap, without garbage not yet collected.
  const mem = sampler(50, 1_000);
  const jobId = 'bench-job';
  const startedAt = Date.now();
  // Half a second of working time left (after the 40 s end reserve): every request here is too large for it,
  // so it becomes a job.
  await handler(JSON.parse(env('BENCH_REQUEST')) as unknown, {
    awsRequestId: jobId,
    getRemainingTimeInMillis: () => 40_500,
  });
  let abortAt: number | undefined;
  const abortAfter = Number(process.env.BENCH_ABORT_AFTER_MS ?? 0);
  if (abortAfter > 0) {
    await new Promise((r) => setTimeout(r, abortAfter));
    abortAt = Date.now();
    await handler({ abort: { jobId, reason: 'bench: abort latency' } }, { awsRequestId: 'bench-abort' });
  }
  const execution = await sfn.finished(jobId);
  const endedAt = Date.now();
  // A stopped job's running chunk goes on until it notices: give it time to (the parent measures it).
  if (abortAt !== undefined) await new Promise((r) => setTimeout(r, 3_000));
  const memory = mem.stop();
  await sfn.close();
  return {
    status: 'ok',
    startedAt,
    ...(abortAt === undefined ? {} : { abortAt }),
    endedAt,
    jobState: execution.status,
    chunks: execution.chunks.filter((c) => c.outcome === 'answered').length,
    memory,
  };
}

answerParent<JobRun>(run());
