/**
 * Policy sweep benchmark: a schedule policy's run over a domain of 100,000 open executions of
 * which 1% carry the policy's tag, against the local SWF (its own process, SWF's token buckets at real speed,
 * 30 ms per call), the handler in another process bundled as deployed, invoked with the policy's event as
 * the rule delivers it and the default 5-minute timeout. What a user feels, as ratios from the same run:
 *
 *  - it finishes in one invocation (no job), its terminations at the configured rate;
 *  - List calls against the pages SWF's tag filter returns (ceil(matches / 1000)): the sweep lists only what
 *    the filter returns, not the domain; and their rate against its share of the List quota (24 of 48 per s);
 *  - peak memory against the same sweep over a domain of 10,000 holding the same 1,000 matches (10%): flat as
 *    the domain grows (the matches held equal, so only the domain's size differs). RSS, and the live heap
 *    (a forced full GC every 250 ms: the peak heapUsed would count garbage not yet collected).
 *
 * Run alone: `npx tsx bench/sweep.ts` (BENCH_SWEEP_LARGE=100000, BENCH_SWEEP_SMALL=10000,
 * BENCH_SWEEP_EVERY=100: one execution in that many of the large domain matches). Never fails for a goal
 * not met.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  DEFAULT_TERMINATE_BURST,
  DEFAULT_TERMINATE_RATE_PER_SECOND,
  ENV,
  LIST_RATE_PER_SECOND,
} from '../lib/contract';
import { POLICY_EVENT_KEY, policyDigest } from '../lib/policy-contract';

import { SWF_QUOTAS } from '../test/support/fake-swf';
import type { HandlerRun } from './bulk-child';
import { bundleChildren, MiB, runChild, ServerProcess } from './bulk';
import type { ServerStats } from './bulk-server';
import { fmt, ratio, table } from './stats';

const DOMAIN = 'sweep';
const TAG = 'stuck';
const LIST_PAGE = 1000;
/** The function's default timeout: the sweep must finish inside it. */
const TIMEOUT_MS = 5 * 60_000;

function num(name: string, fallback: number): number {
  const raw = process.env[name];
  return raw === undefined || raw === '' ? fallback : Number(raw);
}

interface SweepRun {
  readonly domainSize: number;
  readonly matches: number;
  readonly run: Extract<HandlerRun, { startedAt: number }>;
  readonly stats: ServerStats;
  readonly wallMs: number;
}

/** The policy the sweep runs, as the construct writes it into its rule. */
function benchPolicy(maxExecutions: number) {
  return {
    name: 'BenchSweep',
    trigger: 'schedule',
    request: { domain: DOMAIN, selector: { tag: TAG }, action: 'terminate', maxExecutions, dryRun: false },
  };
}

/** The digest the construct would deploy for the policy (POLICY_DIGESTS), so the handler accepts its run. */
function deployedDigest(policy: ReturnType<typeof benchPolicy>): string {
  return policyDigest(policy.name, 'schedule', policy.request);
}

/** The policy's run as its rule delivers it: the policy, and the scheduled event. */
function policyEvent(policy: ReturnType<typeof benchPolicy>): unknown {
  return {
    [POLICY_EVENT_KEY]: policy,
    event: {
      id: 'bench-scheduled-event',
      source: 'aws.events',
      'detail-type': 'Scheduled Event',
      account: '123456789012',
      time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      resources: ['arn:aws:events:us-east-1:123456789012:rule/bench-sweep'],
      detail: {},
    },
  };
}

async function sweep(domainSize: number, every: number, bundles: Awaited<ReturnType<typeof bundleChildren>>) {
  const matches = Math.ceil(domainSize / every);
  const policy = benchPolicy(matches * 2);
  const t0 = performance.now();
  const server = await ServerProcess.start(bundles.server, {
    populations: [{ domain: DOMAIN, count: domainSize, prefix: 'wf-', tag: TAG, tagEvery: every }],
    latencyMs: 30,
    timeScale: 1,
    buckets: { ...SWF_QUOTAS },
  });
  try {
    const child = await runChild(
      bundles.child,
      {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        BENCH_MODE: 'handler',
        BENCH_REQUEST: JSON.stringify(policyEvent(policy)),
        BENCH_REMAINING_MS: String(TIMEOUT_MS),
        BENCH_SAMPLE_MS: '20',
        BENCH_GC_SAMPLE_MS: '250',
        AWS_ENDPOINT_URL_SWF: server.endpoint,
        AWS_ENDPOINT_URL: server.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'bench',
        AWS_SECRET_ACCESS_KEY: 'bench',
        AWS_LAMBDA_FUNCTION_NAME: 'swf-terminator-bench',
        [ENV.allowedDomains]: DOMAIN,
        [ENV.maxExecutions]: String(matches * 2),
        [ENV.policyDigests]: deployedDigest(policy),
        POWERTOOLS_SERVICE_NAME: 'swf-terminator',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_NO_WARNINGS: '1',
        NODE_OPTIONS: bundles.nodeOptions,
      },
      ['--expose-gc'],
    );
    const run = child.result as HandlerRun;
    if (run.status === 'error') throw new Error(`the handler child failed: ${run.detail}`);
    if (run.status === 'threw') throw new Error(`the sweep threw: ${JSON.stringify(run.error)}`);
    const stats = await server.stats(DOMAIN);
    return { domainSize, matches, run, stats, wallMs: performance.now() - t0 } satisfies SweepRun;
  } finally {
    await server.close();
  }
}

export async function runSweep(): Promise<{ rows: string[][]; notes: string[] }> {
  const large = num('BENCH_SWEEP_LARGE', 100_000);
  const small = num('BENCH_SWEEP_SMALL', 10_000);
  const every = num('BENCH_SWEEP_EVERY', 100);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swf-terminator-sweep-'));
  try {
    const bundles = await bundleChildren(dir);
    const big = await sweep(large, every, bundles);
    // The same number of matches in a smaller domain: only the domain's size differs.
    const little = await sweep(small, Math.max(1, Math.round((every * small) / large)), bundles);
    const seconds = (big.run.endedAt - big.run.startedAt) / 1000;
    const lists = big.stats.calls.ListOpenWorkflowExecutions ?? 0;
    const filterPages = Math.ceil(big.matches / LIST_PAGE);
    const ideal = Math.max(0, big.matches - DEFAULT_TERMINATE_BURST) / DEFAULT_TERMINATE_RATE_PER_SECOND;
    const rows = [
      ['figure', 'value', 'goal'],
      [
        `sweep of ${large} (${big.matches} match): finished in one invocation`,
        big.run.report?.job === undefined
          ? `yes, ${fmt(seconds)} s of ${TIMEOUT_MS / 1000} s`
          : 'no: a job started',
        'yes',
      ],
      [
        'terminated / matched',
        `${String(big.stats.terminations)} / ${big.matches}, ${big.stats.openLeft - (large - big.matches)} matches left open`,
        'all, 0 left',
      ],
      ['List calls / pages the tag filter returns', `${lists} / ${filterPages}`, '<= 1'],
      [
        `List rate / its share of the quota (${LIST_RATE_PER_SECOND}/s)`,
        ratio(lists / Math.max(seconds, 1) / LIST_RATE_PER_SECOND),
        '<= 1',
      ],
      [
        'throttling answers (List / Count / Terminate)',
        `${big.stats.throttled.ListOpenWorkflowExecutions ?? 0} / ${big.stats.throttled.CountOpenWorkflowExecutions ?? 0} / ${big.stats.throttled.TerminateWorkflowExecution ?? 0}`,
        '0',
      ],
      ['time / least time the default rate allows', ratio(seconds / Math.max(ideal, 1e-9)), '~1'],
      [
        `peak RSS, domain ${large} / ${small} (${big.matches} / ${little.matches} matching)`,
        `${ratio(big.run.memory.peakRss / little.run.memory.peakRss)} (${MiB(big.run.memory.peakRss)} / ${MiB(little.run.memory.peakRss)})`,
        '<= 1.5',
      ],
      [
        `peak live heap, domain ${large} / ${small}`,
        ratio((big.run.memory.peakLiveHeap ?? NaN) / (little.run.memory.peakLiveHeap ?? NaN)),
        '<= 1.5',
      ],
    ];
    const notes = [
      `fake SWF at real speed (SWF's buckets, 30 ms per call), its own process; the handler bundled as deployed, ` +
        `default rate ${DEFAULT_TERMINATE_RATE_PER_SECOND}/s burst ${DEFAULT_TERMINATE_BURST}, invoked with a ` +
        `schedule policy's event (selector { tag }), ${TIMEOUT_MS / 1000} s remaining`,
      `wall: ${fmt(big.wallMs / 1000)} s and ${fmt(little.wallMs / 1000)} s (server setup included)`,
    ];
    return { rows, notes };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runSweep()
    .then(({ rows, notes }) => {
      console.log(table(rows));
      for (const n of notes) console.log(`- ${n}`);
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}
