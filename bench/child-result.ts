/**
 * How a benchmark child answers its parent: the run's result, or its failure as `{ status: 'error' }`,
 * sent over the IPC channel, then exit. Exit 1 only if even that could not be sent.
 */
export interface ChildError {
  status: 'error';
  detail: string;
}

/** The handler as a benchmark child calls it (loaded from its bundle). */
export type HandlerFn = (event: unknown, context: unknown) => Promise<unknown>;

/** A required setting the parent passes to the child. */
export function env(name: string): string {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
}

export function answerParent<T>(run: Promise<T>): void {
  run
    .catch((err: unknown): ChildError => ({
      status: 'error',
      detail: err instanceof Error ? (err.stack ?? err.message) : String(err),
    }))
    .then((result) => {
      process.send?.(result, () => {
        process.exit(0);
      });
    })
    .catch(() => {
      process.exit(1);
    });
}

/** The SDK's warning that Node.js 20 loses support (the handler runs on Lambda's Node.js 24), line by line. */
const SDK_NODE_WARNING =
  /NodeVersionSupportWarning|node >=22|a\.co\/|trace-warnings|To continue receiving|versions published after/;

/** A child's stderr lines that say something: blank lines and the SDK's Node.js 20 warning left out. */
export function stderrLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.trim() !== '' && !SDK_NODE_WARNING.test(l));
}
