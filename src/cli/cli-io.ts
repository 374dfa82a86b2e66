import type { CliContext } from './cli-context.ts';

export interface CliIo {
  readonly env: NodeJS.ProcessEnv;
  out(text: string): void;
  /** All of stdin (for `--password-stdin`). */
  readStdin(): Promise<string>;
  /** Asks on the terminal without echo; undefined when there is no terminal. */
  promptHidden(question: string): Promise<string | undefined>;
}

// The server and store modules load only when a command runs, so `--help` answers at once.
export async function withCli<T>(
  env: NodeJS.ProcessEnv,
  run: (context: CliContext) => Promise<T>,
): Promise<T> {
  const { withCli: open } = await import('./cli-context.ts');
  return open(env, run);
}

export function show(io: CliIo, json: boolean, value: Record<string, unknown>, human: string): void {
  io.out(json ? JSON.stringify(value, null, 2) : human);
}
