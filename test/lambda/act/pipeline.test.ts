/**
 * The paced queue every action runs through (lambda/act/pipeline.ts): concurrency, retries, stopping.
 */
import { runPipeline, STOP_POLL_MS } from '../../../lambda/act/pipeline';

describe('runPipeline', () => {
  test('re-queues retried items, never loses one, respects the in-flight limit', async () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    let next = 0;
    const attempts = new Map<number, number>();
    let inFlight = 0;
    let maxInFlight = 0;
    const result = await runPipeline<number>({
      source: { next: () => Promise.resolve(items[next++]) },
      act: async (item) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setImmediate(r));
        inFlight--;
        const n = (attempts.get(item) ?? 0) + 1;
        attempts.set(item, n);
        return item % 7 === 0 && n < 3 ? 'retry' : 'done';
      },
      inFlightLimit: () => 4,
    });
    expect(result).toEqual({ stopped: false, requeued: [] });
    expect([...attempts.keys()].sort((a, b) => a - b)).toEqual(items);
    expect(attempts.get(14)).toBe(3);
    expect(maxInFlight).toBeLessThanOrEqual(4);
  });

  test('stops starting work when told to; in-flight work finishes; re-queued work is returned', async () => {
    let next = 0;
    let started = 0;
    const done = new Set<number>();
    const result = await runPipeline<number>({
      source: { next: () => Promise.resolve(next < 100 ? next++ : undefined) },
      act: async (item) => {
        started++;
        await new Promise((r) => setImmediate(r));
        if (item === 1) return 'retry';
        done.add(item);
        return 'done';
      },
      inFlightLimit: () => 2,
      shouldStop: () => started >= 10,
    });
    expect(result.stopped).toBe(true);
    expect(started).toBeLessThanOrEqual(11);
    expect(next).toBeLessThan(100);
    // Nothing taken from the source is lost: each item is done or handed back (item 1 always retries).
    expect(result.requeued).toContain(1);
    const taken = Array.from({ length: next }, (_, i) => i);
    expect([...done, ...result.requeued].sort((a, b) => a - b)).toEqual(taken);
  });

  test('a page slow to come does not hold the stop: the pipeline stops while waiting, after its in-flight work', async () => {
    let n = 0;
    const done: number[] = [];
    const stopAt = Date.now() + 100;
    const started = Date.now();
    const result = await runPipeline<number>({
      // Two items, then a page that never comes.
      source: {
        next: () => (n < 2 ? Promise.resolve(n++) : new Promise<number | undefined>(() => undefined)),
      },
      act: async (item) => {
        // Item 1 is still in flight when the stop comes (at 100 ms) and is noticed (by 100 + 250 ms).
        await new Promise((r) => setTimeout(r, item === 1 ? 2 * STOP_POLL_MS + 200 : 0));
        done.push(item);
        return 'done';
      },
      inFlightLimit: () => 4,
      shouldStop: () => Date.now() >= stopAt,
    });
    expect(result).toEqual({ stopped: true, requeued: [] });
    expect(done).toEqual([0, 1]);
    expect(Date.now() - started).toBeLessThan(2 * STOP_POLL_MS + 200 + 1000);
  });

  test('a page abandoned at the stop that fails later is dropped', async () => {
    // Jest fails a test on an unhandled rejection by itself, so waiting past the late failure is the check.
    const late = new Promise<number | undefined>((_, reject) => {
      setTimeout(() => {
        reject(new Error('listing broke after the stop'));
      }, STOP_POLL_MS * 2);
    });
    let stop = false;
    setTimeout(() => (stop = true), 10);
    const result = await runPipeline<number>({
      source: { next: () => late },
      act: () => Promise.resolve('done' as const),
      inFlightLimit: () => 1,
      shouldStop: () => stop,
    });
    expect(result).toEqual({ stopped: true, requeued: [] });
    await new Promise((r) => setTimeout(r, STOP_POLL_MS * 3));
  });

  test('an error from the source is rethrown after the in-flight items finished', async () => {
    let finished = 0;
    let n = 0;
    const run = runPipeline<number>({
      source: {
        next: () => (n === 3 ? Promise.reject(new Error('listing broke')) : Promise.resolve(n++)),
      },
      act: async () => {
        await new Promise((r) => setImmediate(r));
        finished++;
        return 'done';
      },
      inFlightLimit: () => 5,
    });
    await expect(run).rejects.toThrow('listing broke');
    expect(finished).toBe(3);
  });
});
