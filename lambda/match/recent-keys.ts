/**
 * De-duplicating a listing: the plan, the selector run and the matcher all skip a run seen a moment ago. Pure.
 */

/**
 * Keys seen in the current and the previous page only: a bounded de-duplication of a listing (an eventually
 * consistent listing may repeat an entry on the next page). Memory is at most two pages of keys however
 * long the listing is. A repeat further apart is not caught here; terminating it again is harmless
 * (SWF answers UnknownResourceFault: it is reported as already-closed).
 */
export class RecentKeys {
  private current = new Set<string>();
  private previous = new Set<string>();

  has(key: string): boolean {
    return this.current.has(key) || this.previous.has(key);
  }

  add(key: string): void {
    this.current.add(key);
  }

  /** Call at each page boundary: the page before last is forgotten. */
  rotate(): void {
    this.previous = this.current;
    this.current = new Set();
  }

  /** Keys held (for tests: stays bounded). */
  get size(): number {
    return this.current.size + this.previous.size;
  }
}

/** The key of a run, for de-duplication. */
export function runKey(workflowId: string, runId: string): string {
  return `${workflowId}\u0000${runId}`;
}
