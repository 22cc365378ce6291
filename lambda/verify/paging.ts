/**
 * Following a paged list to its end, for the verifier's readers (IAM's lists, Lambda's): every item, or an
 * error when a list would not end. Each page call is the caller's, retries included.
 */

/** A list still truncated after this many pages is refused (the service would be looping). */
export const MAX_LIST_PAGES = 50;

/** One page: its items, and the marker of the next page (undefined or '': the list ends here). */
export interface Page<T> {
  readonly items: readonly T[];
  readonly next: string | undefined;
}

/**
 * Every item of a paged list: `page(marker)` from the first page (marker undefined) to the last.
 *
 * @throws Error when the list is still truncated after {@link MAX_LIST_PAGES} pages
 */
export async function everyPage<T>(page: (marker: string | undefined) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let marker: string | undefined;
  for (let pages = 1; ; pages++) {
    const answer = await page(marker);
    items.push(...answer.items);
    if (answer.next === undefined || answer.next === '') return items;
    if (pages >= MAX_LIST_PAGES) throw new Error(`the list was still truncated after ${pages} pages`);
    marker = answer.next;
  }
}
