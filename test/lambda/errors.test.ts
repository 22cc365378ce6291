/**
 * The refusal lists the construct and the handler share (lib/contract.ts) name errors the handler really
 * throws: a renamed class would otherwise be retried by the state machine, or answered as a failure.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { JOB_REFUSALS, REQUEST_REFUSALS } from '../../lib/contract';
import * as errors from '../../lambda/errors';

/** The name each exported error class of lambda/errors.ts throws with (its `name` field), read from its source. */
function errorNames(): Set<string> {
  const source = fs.readFileSync(path.join(__dirname, '../../lambda/errors.ts'), 'utf8');
  const names = new Set<string>();
  for (const [, cls, name] of source.matchAll(
    /export class (\w+) extends Error \{\s*override readonly name = '(\w+)'/g,
  )) {
    if (cls !== undefined && name !== undefined && cls in errors) names.add(name);
  }
  return names;
}

test.each([
  ['REQUEST_REFUSALS', REQUEST_REFUSALS],
  ['JOB_REFUSALS', JOB_REFUSALS],
])('every error %s names is an error class of the handler, by the name it throws with', (_list, names) => {
  const known = errorNames();
  expect(known.size).toBeGreaterThan(5);
  expect(names.filter((name) => !known.has(name))).toEqual([]);
});
