import { everyPage, MAX_LIST_PAGES } from '../../../lambda/verify/paging';

describe('everyPage', () => {
  test('follows each next marker and stops at the page without one', async () => {
    const asked: (string | undefined)[] = [];
    const items = await everyPage((marker) => {
      asked.push(marker);
      return Promise.resolve(marker === undefined ? { items: [1, 2], next: 'm2' } : { items: [3], next: '' });
    });
    expect(items).toEqual([1, 2, 3]);
    expect(asked).toEqual([undefined, 'm2']);
  });

  test('a list that never ends is refused after MAX_LIST_PAGES pages', async () => {
    let pages = 0;
    const run = everyPage(() => {
      pages += 1;
      return Promise.resolve({ items: [pages], next: 'again' });
    });
    await expect(run).rejects.toThrow(`the list was still truncated after ${MAX_LIST_PAGES} pages`);
    expect(pages).toBe(MAX_LIST_PAGES);
  });
});
