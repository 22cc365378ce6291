/**
 * The command's exit codes, one per way it can end, so a script can tell "done" from "refused" without
 * reading the output. Written in the README's table; `swf-terminator --help` prints them too.
 */
export const EXIT = {
  /** Everything asked was done (a preview shown, a request or job finished with no failure). */
  done: 0,
  /** Some executions failed (the report, or the job's failures, name them), or the job failed. */
  failed: 1,
  /** The terminator refused the request (the field and the rule are shown); nothing was acted on. */
  refused: 2,
  /** The job was aborted (by this command or anyone else). */
  aborted: 3,
  /** Not confirmed: the operator declined, typed another answer, or there was no terminal and no --yes. */
  notConfirmed: 4,
  /** AWS could not be reached or answered an error (credentials, permissions, a missing stack). */
  unreachable: 5,
  /** The command line itself was wrong (an unknown flag, a missing one, a bad value). */
  usage: 64,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error that ends the command with its code, after its message is shown. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

/** Shorthand for a usage error naming the flag and the rule. */
export const usageError = (flag: string, rule: string) => new CommandError(`${flag}: ${rule}`, EXIT.usage);

/** The table `--help` prints. */
export const EXIT_CODES_HELP = `Exit codes:
  0   done
  1   some executions failed, or the job failed
  2   refused by the terminator (the field and the rule are shown); nothing acted on
  3   the job was aborted
  4   not confirmed; nothing sent
  5   AWS could not be reached, or answered an error
  64  usage error`;
