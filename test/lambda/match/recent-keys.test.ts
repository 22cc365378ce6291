/** A listing's bounded de-duplication (lambda/match/recent-keys.ts). */
import { RecentKeys } from '../../../lambda/match/recent-keys';

describe('RecentKeys: bounded de-duplication', () => {
  test('catches a repeat on the next page, forgets pages before that, stays at two pages of keys', () => {
    const recent = new RecentKeys();
    for (let page = 0; page < 200; page++) {
      for (let i = 0; i < 1000; i++) recent.add(`p${page}-${i}`);
      expect(recent.size).toBeLessThanOrEqual(2000);
      recent.rotate();
    }
    expect(recent.size).toBe(1000);
    expect(recent.has('p199-5')).toBe(true); // previous page
    recent.rotate();
    expect(recent.has('p199-5')).toBe(false);
    expect(recent.size).toBe(0);
  });
});
