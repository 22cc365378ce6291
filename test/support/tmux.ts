/**
 * A real pseudo-terminal for the operator's command: tmux runs it in a detached session of a server of the
 * test's own (its own socket), keys are typed into it (`send-keys`), and the screen is read back
 * (`capture-pane`), as an operator sees it: prompts, the progress bar, what Ctrl-C does. When the command ends,
 * the session prints its exit code and stays, so the last screen can still be read.
 */
import { execFileSync } from 'node:child_process';

let sessions = 0;

const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

export class TmuxSession {
  private constructor(private readonly socket: string) {}

  /**
   * Starts `argv` in a `cols` x `rows` terminal with `env` (besides PATH and HOME); with `stderrTo`, its
   * standard error goes to that file instead of the terminal.
   */
  static start(
    argv: readonly string[],
    env: Record<string, string>,
    cols = 160,
    rows = 50,
    stderrTo?: string,
  ): TmuxSession {
    sessions += 1;
    const socket = `swf-cli-${process.pid}-${sessions}`;
    const redirect = stderrTo === undefined ? '' : ` 2>${quote(stderrTo)}`;
    const command = `${argv.map(quote).join(' ')}${redirect}; echo "@@exit=$?@@"; sleep 3600`;
    execFileSync(
      'tmux',
      [
        '-L',
        socket,
        '-f',
        '/dev/null',
        'new-session',
        '-d',
        '-x',
        String(cols),
        '-y',
        String(rows),
        '-s',
        'cli',
        command,
      ],
      {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '/tmp',
          TERM: 'xterm-256color',
          ...env,
        },
      },
    );
    return new TmuxSession(socket);
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }

  /** The screen and its scrollback, wrapped lines joined. */
  screen(): string {
    return this.tmux('capture-pane', '-p', '-J', '-S', '-2000', '-t', 'cli');
  }

  /** Waits until the screen shows `pattern`; the screen then. Fails naming the pattern and showing the screen. */
  async waitFor(pattern: RegExp | string, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.screen();
      if (typeof pattern === 'string' ? screen.includes(pattern) : pattern.test(screen)) return screen;
      // The command ended without showing it: no need to wait longer.
      if (Date.now() > deadline || screen.includes('@@exit='))
        throw new Error(`the screen never showed ${String(pattern)}:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Types `text` as it is (no key names), then Enter unless told otherwise. */
  type(text: string, enter = true): void {
    if (text !== '') this.tmux('send-keys', '-t', 'cli', '-l', text);
    if (enter) this.tmux('send-keys', '-t', 'cli', 'Enter');
  }

  /** Presses a key by tmux's name: `C-c`, `Enter`, `Left`, `y`. */
  press(key: string): void {
    this.tmux('send-keys', '-t', 'cli', key);
  }

  /** Waits for the command to end; its exit code. */
  async exitCode(timeoutMs = 60_000): Promise<number> {
    const screen = await this.waitFor(/@@exit=\d+@@/, timeoutMs);
    return Number(/@@exit=(\d+)@@/.exec(screen)?.[1]);
  }

  kill(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // Already gone.
    }
  }
}
