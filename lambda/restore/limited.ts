/**
 * Runs `work` over `items` in order with at most `limit` at once, dispatching nothing more once `shouldStop`
 * says so. Answers how many items were dispatched (a prefix of `items`: the rest was not touched); rejects
 * with the first error once everything dispatched has settled.
 */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
  shouldStop: () => boolean = () => false,
): Promise<number> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length && !shouldStop()) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (error: unknown) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure !== undefined) throw failure.error;
  return next;
}
