/**
 * The README's module map ("How it works inside") names every module of the handler, in the row of its own
 * directory, so a newcomer who reads it finds each file where the imports put it (the imports themselves are
 * held to the layers by `npm run deps`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** The map's rows: the first cell (a directory, or top-level files) and the row's whole text. */
function mapRows(): { first: string; line: string }[] {
  const start = README.indexOf('| module | its one job |');
  expect(start).toBeGreaterThan(0);
  const rows: { first: string; line: string }[] = [];
  for (const line of README.slice(start).split('\n').slice(2)) {
    if (!line.startsWith('|')) break;
    rows.push({ first: line.split('|')[1] ?? '', line });
  }
  return rows;
}

/** The handler's modules, relative to lambda/. */
function modules(dir = path.join(ROOT, 'lambda')): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return modules(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')
      ? [path.relative(path.join(ROOT, 'lambda'), full)]
      : [];
  });
}

test("every module of the handler is named in its directory's row of the README's map", () => {
  const rows = mapRows();
  const missing = modules().filter((module) => {
    const dir = path.dirname(module);
    const file = path.basename(module);
    if (dir === '.') {
      // A top-level file: named in a first cell of top-level files (`lambda/a.ts`, `b.ts`).
      return !rows.some(
        ({ first }) =>
          first.includes(`\`lambda/${file}\``) ||
          (/`lambda\/[\w-]+\.ts`/.test(first) && first.includes(`\`${file}\``)),
      );
    }
    const row = rows.find(({ first }) => first.trim() === `\`lambda/${dir}/\``);
    return row === undefined || !row.line.includes(`\`${file}\``);
  });
  expect(missing).toEqual([]);
});
