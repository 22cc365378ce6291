/**
 * The breaker against a real DynamoDB implementation (dynalite, started here), not a mock: its count holds
 * exactly under concurrent invocations, a duplicate delivery is counted once, a trip acts on nothing more
 * until the window has passed or an operator resets it, and every run passed over is counted.
 */
import { Breaker, type BreakerLimits, runKey } from '../../../lambda/aws/breaker';
import { dynamoBreakerTable } from '../../../lambda/aws/breaker-table';
import { type LocalDynamoDb, startLocalDynamoDb } from '../../support/local-dynamodb';

let dynamo: LocalDynamoDb;
beforeAll(async () => {
  dynamo = await startLocalDynamoDb();
});
afterAll(() => dynamo.close());

/** A breaker of `policy` on the local table, on the clock `now`. */
function breakerOf(policy: string, limits: BreakerLimits, now: () => number = Date.now): Breaker {
  const client = dynamo.client();
  return new Breaker(
    dynamoBreakerTable(dynamo.tableName, () => Promise.resolve(client)),
    policy,
    limits,
    now,
  );
}

/** What an invocation does with the run its event names: passes over on a trip, else judges it in full. */
async function consult(breaker: Breaker, workflowId: string, runId = `run-${workflowId}`) {
  if (await breaker.passOverIfTripped()) return 'passed-over';
  return breaker.admit(workflowId, runId);
}

const HOUR = 3_600_000;

test('a storm: 2,000 runs, 20 invocations at once, a cap of 50: exactly 50 admitted, every other one counted passed over', async () => {
  // GIVEN one policy's breaker, as 20 concurrent invocations each see it (a client of its own each)
  const invocations = Array.from({ length: 20 }, () => breakerOf('Storm', { cap: 50, windowMs: HOUR }));
  const runs = Array.from({ length: 2_000 }, (_, i) => `wf-${i}`);
  // WHEN every run's event is taken by the next free invocation
  const admitted: string[] = [];
  let next = 0;
  await Promise.all(
    invocations.map(async (breaker) => {
      while (next < runs.length) {
        const run = runs[next++]!;
        if ((await consult(breaker, run)) === 'admitted') admitted.push(run);
      }
    }),
  );
  // THEN exactly 50 distinct runs were admitted, and the other 1,950 were each counted passed over
  // (the 10,000-event storm runs end to end: test/lambda/flows/breaker.test.ts)
  expect(new Set(admitted).size).toBe(50);
  expect(admitted).toHaveLength(50);
  await expect(invocations[0]!.status()).resolves.toMatchObject({
    cap: 50,
    actedInWindow: 50,
    tripped: true,
    passedOver: 1_950,
    passedOverTotal: 1_950,
  });
}, 120_000);

test('a run delivered again is counted once: before the trip and after it, it is still admitted', async () => {
  // GIVEN a cap of 2, and runs a and b admitted
  const breaker = breakerOf('Duplicates', { cap: 2, windowMs: HOUR });
  await expect(consult(breaker, 'a')).resolves.toBe('admitted');
  await expect(consult(breaker, 'a')).resolves.toBe('admitted');
  await expect(consult(breaker, 'b')).resolves.toBe('admitted');
  // WHEN c trips it, and a's event arrives once more
  await expect(consult(breaker, 'c')).resolves.toBe('passed-over');
  // THEN a is still admitted by its own earlier count (acting again finds it closed), c never is
  await expect(breaker.admit('a', 'run-a')).resolves.toBe('admitted');
  await expect(consult(breaker, 'c')).resolves.toBe('passed-over');
  await expect(breaker.status()).resolves.toMatchObject({ actedInWindow: 2, passedOver: 2, tripped: true });
});

test('a trip holds for a whole window after it began, then the policy acts again, up to its cap', async () => {
  // GIVEN a cap of 1 per 10 minutes, tripped at t = 5 min
  let t = 1_000_000_000_000;
  const start = t;
  const breaker = breakerOf('Window', { cap: 1, windowMs: 600_000 }, () => t);
  await expect(consult(breaker, 'a')).resolves.toBe('admitted');
  t = start + 300_000;
  await expect(consult(breaker, 'b')).resolves.toBe('passed-over');
  // WHEN the acted run leaves the window (t = 10 min + 1), the trip has not run its window yet
  t = start + 600_001;
  // THEN it still passes over
  await expect(consult(breaker, 'c')).resolves.toBe('passed-over');
  await expect(breaker.status()).resolves.toMatchObject({
    tripped: true,
    trippedSince: new Date(start + 300_000).toISOString(),
    trippedUntil: new Date(start + 900_000).toISOString(),
    passedOver: 2,
  });
  // WHEN the trip's window has passed (t = 15 min + 1)
  t = start + 900_001;
  // THEN one more run is admitted, and the next trips it again, its count starting over
  await expect(consult(breaker, 'd')).resolves.toBe('admitted');
  await expect(consult(breaker, 'e')).resolves.toBe('passed-over');
  await expect(breaker.status()).resolves.toMatchObject({ tripped: true, passedOver: 1, passedOverTotal: 3 });
});

test('an operator’s reset: a fresh window at once, recorded with who asked and why', async () => {
  // GIVEN a tripped breaker
  const breaker = breakerOf('Reset', { cap: 1, windowMs: HOUR });
  await consult(breaker, 'a');
  await consult(breaker, 'b');
  // WHEN an operator resets it
  const status = await breaker.reset('ops-req-7', 'the deploy was rolled back (INC-42)');
  // THEN nothing is tripped or counted, the reset is recorded, and the trip's history is kept
  expect(status).toMatchObject({
    tripped: false,
    actedInWindow: 0,
    passedOver: 1,
    passedOverTotal: 1,
    lastReset: { by: 'ops-req-7', reason: 'the deploy was rolled back (INC-42)' },
  });
  expect(status.trippedSince).toEqual(expect.any(String));
  // AND the policy acts again, up to its cap
  await expect(consult(breaker, 'c')).resolves.toBe('admitted');
  await expect(consult(breaker, 'd')).resolves.toBe('passed-over');
});

test('a policy that never acted reads as untripped, its window empty', async () => {
  await expect(breakerOf('Quiet', { cap: 5, windowMs: HOUR }).status()).resolves.toEqual({
    cap: 5,
    windowSeconds: 3600,
    actedInWindow: 0,
    tripped: false,
    passedOver: 0,
    passedOverTotal: 0,
  });
});

test("a record at an event policy's largest cap (5,000 runs of the longest ids) fits in one DynamoDB item", async () => {
  // GIVEN 5,000 runs counted, each with a 256-character workflowId and a 64-character runId
  const table = dynamoBreakerTable(dynamo.tableName, () => Promise.resolve(dynamo.client()));
  const acted = Object.fromEntries(
    Array.from({ length: 5_000 }, (_, i) => [
      runKey(`${i}`.padEnd(256, 'w'), `${i}`.padEnd(64, 'r')),
      1.8e12 + i,
    ]),
  );
  const record = { acted, passedOver: 0, passedOverTotal: 0, version: 1 };
  // WHEN it is written; THEN DynamoDB (its 400 KB item limit) takes it, and it reads back whole
  await expect(table.write('Largest', record, 0, 2e9)).resolves.toBe(true);
  await expect(table.read('Largest')).resolves.toEqual(record);
});

test('an item over 400 KB is refused by the local DynamoDB, as by DynamoDB (the check above proves something)', async () => {
  const table = dynamoBreakerTable(dynamo.tableName, () => Promise.resolve(dynamo.client()));
  const acted = Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`${i}`.padEnd(100, 'k'), i]));
  await expect(
    table.write('TooLarge', { acted, passedOver: 0, passedOverTotal: 0, version: 1 }, 0, 2e9),
  ).rejects.toThrow(/size/i);
});
