/**
 * Where the command writes, and how: readable tables and colour on a terminal (none when NO_COLOR is set, or
 * the output is not a terminal), JSON with `--json` for scripts, questions only on a terminal.
 */
import Table from 'cli-table3';
import pc from 'picocolors';

export type Colors = ReturnType<typeof pc.createColors>;

export interface Ui {
  /** `--json`: one JSON document on standard output, nothing else there. */
  readonly json: boolean;
  /** Both standard input and output are a terminal: questions can be asked, a progress bar drawn. */
  readonly interactive: boolean;
  readonly c: Colors;
  /** Where questions are drawn: standard error with --json (standard output holds the JSON document only). */
  readonly promptOutput: NodeJS.WriteStream;
  /** A line on standard output (not in --json mode: human text goes to standard error then). */
  out(line?: string): void;
  /** A line on standard error: notes, warnings, errors. */
  err(line: string): void;
  /** The JSON document of a --json run. */
  result(value: unknown): void;
  table(head: readonly string[], rows: readonly (readonly string[])[]): string;
}

export function terminalUi(json: boolean): Ui {
  const interactive = process.stdin.isTTY && process.stdout.isTTY;
  // picocolors already honours NO_COLOR, FORCE_COLOR and a dumb terminal; colour only on a terminal.
  const c = pc.createColors(pc.isColorSupported && process.stdout.isTTY && !json);
  const colored = c.isColorSupported;
  return {
    json,
    interactive,
    c,
    promptOutput: json ? process.stderr : process.stdout,
    out: (line = '') => (json ? process.stderr : process.stdout).write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    result: (value) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    table: (head, rows) => {
      const table = new Table({
        head: head.map((h) => c.bold(h)),
        style: { head: [], border: colored ? ['grey'] : [], compact: true },
      });
      table.push(...rows.map((row) => [...row]));
      return table.toString();
    },
  };
}

/** `1204` → `1,204`. */
export const count = (n: number) => n.toLocaleString('en-US');
