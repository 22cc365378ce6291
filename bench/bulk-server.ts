/**
 * The SWF half of bench/bulk.ts, run in its own process so that the handler's process is measured alone
 * (its memory, its CPU): test/support/fake-swf.ts with SWF's token buckets (time-scaled), a per-call
 * latency and pre-made open executions, answering the parent over IPC.
 *
 * Configuration: the JSON in BENCH_SERVER_CONFIG ({@link ServerConfig}). Protocol (process.send / 'message'):
 *  - child -> parent, once started: `{ type: 'ready', endpoint, setupMs }` (or `{ type: 'error', detail }`);
 *  - parent -> child `{ type: 'stats', domain, times? }` -> `{ type: 'stats', stats: ServerStats }`;
 *  - parent -> child `{ type: 'close' }`: closes the server and exits 0.
 */
import { performance } from 'node:perf_hooks';
import { type BucketSpec, FakeSwfServer, makeExecutions } from '../test/support/fake-swf';

export interface ServerConfig {
  /**
   * Domains and how many open executions to make in each (workflowIds `${prefix}${i}`); with `tagEvery`,
   * every tagEvery-th execution carries `tag` (a policy's 1% to match).
   */
  populations: { domain: string; count: number; prefix: string; tag?: string; tagEvery?: number }[];
  latencyMs: number;
  timeScale: number;
  buckets: Record<string, BucketSpec>;
}

/** What the parent learns about one domain after a phase. */
export interface ServerStats {
  /** Successful terminations in the domain. */
  terminations: number;
  /** Their server-side times (`Date.now()` when closed), ascending; only when asked (`times: true`). */
  times?: number[];
  /** The first termination's payload (what the handler sent besides the execution). */
  sample?: { reason?: string; details?: string; childPolicy?: string };
  /** Open executions left in the domain. */
  openLeft: number;
  /** Calls and throttling answers per operation, whole server. */
  calls: Record<string, number>;
  throttled: Record<string, number>;
}

export type ServerMessage =
  | { type: 'ready'; endpoint: string; setupMs: number }
  | { type: 'error'; detail: string }
  | { type: 'stats'; stats: ServerStats };

export type ParentMessage = { type: 'stats'; domain: string; times?: boolean } | { type: 'close' };

const OPERATIONS = [
  'TerminateWorkflowExecution',
  'ListOpenWorkflowExecutions',
  'CountOpenWorkflowExecutions',
  'DescribeWorkflowExecution',
];

function reply(message: ServerMessage): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  const raw = process.env.BENCH_SERVER_CONFIG;
  if (raw === undefined) throw new Error('BENCH_SERVER_CONFIG is not set');
  const config = JSON.parse(raw) as ServerConfig;
  const t0 = performance.now();
  const server = await FakeSwfServer.start({
    domains: config.populations.map((p) => p.domain),
    executions: config.populations.flatMap((p) =>
      makeExecutions(p.count, {
        domain: p.domain,
        prefix: p.prefix,
        ...(p.tag === undefined || p.tagEvery === undefined
          ? {}
          : { tagList: (i: number) => (i % (p.tagEvery ?? 1) === 0 ? [p.tag ?? ''] : undefined) }),
      }),
    ),
    latencyMs: config.latencyMs,
    timeScale: config.timeScale,
    buckets: config.buckets,
    recordCalls: false,
  });
  reply({ type: 'ready', endpoint: server.endpoint, setupMs: performance.now() - t0 });

  process.on('message', (m: ParentMessage) => {
    if (m.type === 'close') {
      void server.close().finally(() => process.exit(0));
      return;
    }
    const mine = server.terminations.filter((t) => t.domain === m.domain);
    const first = mine[0];
    const calls: Record<string, number> = {};
    const throttled: Record<string, number> = {};
    for (const op of OPERATIONS) {
      calls[op] = server.callCount(op);
      throttled[op] = server.throttledCount(op);
    }
    reply({
      type: 'stats',
      stats: {
        terminations: mine.length,
        ...(m.times === true ? { times: mine.map((t) => t.at).sort((a, b) => a - b) } : {}),
        ...(first
          ? {
              sample: {
                ...(first.reason === undefined ? {} : { reason: first.reason }),
                ...(first.details === undefined ? {} : { details: first.details }),
                ...(first.childPolicy === undefined ? {} : { childPolicy: first.childPolicy }),
              },
            }
          : {}),
        openLeft: server.openCount(m.domain),
        calls,
        throttled,
      },
    });
  });
  // The parent going away (crash, Ctrl-C) must not leave this server running.
  process.on('disconnect', () => process.exit(0));
}

main().catch((err: unknown) => {
  reply({ type: 'error', detail: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 100);
});
