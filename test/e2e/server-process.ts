import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Real `cdp` processes for end-to-end tests: `node bin/cdp.mjs …` with its own environment,
 * output captured, and every wait bounded. Processes still alive when the test process exits
 * are killed, so a failed test never leaves a server behind.
 */

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CDP_BIN = path.join(REPO_ROOT, 'bin', 'cdp.mjs');
/** The `CDP_ADMIN_TOKEN` every server process gets unless the test sets its own. */
export const E2E_ADMIN_TOKEN = 'e2e-admin-token-0123456789abcdef';

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** A port that was free a moment ago: listen on port 0, read it, close. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/**
 * The environment of a child process: this process's environment without anything that
 * configures the platform (so the developer's shell cannot leak into a test), plus `env`.
 */
export function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith('CDP_') || name === 'PORT' || name === 'HOST') continue;
    base[name] = value;
  }
  return { ...base, ...env };
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** From the moment the signal was sent (or the process started, for `run`) to its exit. */
  readonly durationMs: number;
  /** The process did not exit in time and was killed with SIGKILL. */
  readonly timedOut: boolean;
}

export interface RunResult extends ExitInfo {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node bin/cdp.mjs …args` to completion (killed after `timeoutMs`); `input` is piped to stdin. */
export async function runCdp(
  args: readonly string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
  input?: string,
): Promise<RunResult> {
  const started = performance.now();
  const child = spawn(process.execPath, [CDP_BIN, ...args], {
    cwd: REPO_ROOT,
    env: childEnv(env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  live.add(child);
  // No input: stdin ends at once, as /dev/null would.
  child.stdin.end(input ?? '');
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('close', (c: number | null, s: NodeJS.Signals | null) => resolve([c, s])),
  );
  clearTimeout(timer);
  live.delete(child);
  return { code, signal, durationMs: performance.now() - started, timedOut, stdout, stderr };
}

/** What the start-up banner tells the operator. Secrets appear only on the first start. */
export interface Banner {
  readonly listening: string | undefined;
  readonly workspace: string | undefined;
  readonly writeKey: string | undefined;
  readonly adminToken: string | undefined;
}

export function parseBanner(stdout: string): Banner {
  return {
    listening: /CDP listening on (http:\/\/\S+)/.exec(stdout)?.[1],
    workspace: /Workspace:\s+(\S+)/.exec(stdout)?.[1],
    writeKey: /Write key:\s+(wk_[A-Za-z0-9_-]+)\s/.exec(stdout)?.[1],
    adminToken: /Admin token:\s+(cdp_[A-Za-z0-9_-]+)/.exec(stdout)?.[1],
  };
}

export interface ServerProcess {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** The `CDP_ADMIN_TOKEN` the process was started with. */
  readonly adminToken: string;
  stdout(): string;
  stderr(): string;
  banner(): Banner;
  /** Whether the process has exited (for any reason). */
  exited(): boolean;
  /**
   * Sends `signal` and waits for the exit; after `timeoutMs` the process is killed with
   * SIGKILL and the result says `timedOut`.
   */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ExitInfo>;
}

export interface StartOptions {
  /** Where the data lives (`CDP_DATA_DIR` or `CDP_DATABASE_URL`) and any other variables. */
  readonly env: Record<string, string>;
  readonly startTimeoutMs?: number;
  /** The script to run `start` with; defaults to bin/cdp.mjs (the sources through tsx). */
  readonly entry?: string;
}

/** A pause; `unref` ones do not keep the test process alive. */
const sleep = (ms: number, unref = false) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    if (unref) timer.unref();
  });

async function healthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

function spawnServer(port: number, options: StartOptions): ServerProcess {
  const adminToken = options.env['CDP_ADMIN_TOKEN'] ?? E2E_ADMIN_TOKEN;
  const env = {
    CDP_ADMIN_TOKEN: adminToken,
    CDP_LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: String(port),
    // Four test files run at once, some with several servers each, against one PostgreSQL.
    CDP_DATABASE_POOL_SIZE: '4',
    ...options.env,
  };
  const child = spawn(process.execPath, [options.entry ?? CDP_BIN, 'start'], {
    cwd: REPO_ROOT,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null; at: number } | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code: number | null, signal: NodeJS.Signals | null) => {
      exitInfo = { code, signal, at: performance.now() };
      live.delete(child);
      resolve();
    }),
  );
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    adminToken,
    stdout: () => stdout,
    stderr: () => stderr,
    banner: () => parseBanner(stdout),
    exited: () => exitInfo !== undefined,
    async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<ExitInfo> {
      const sent = performance.now();
      if (exitInfo === undefined) child.kill(signal);
      let timedOut = false;
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'timeout'>(
        (resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)),
      );
      const outcome = await Promise.race([exit.then(() => 'exit' as const), deadline]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        timedOut = true;
        child.kill('SIGKILL');
        await Promise.race([exit, sleep(5_000, true)]);
      }
      const info = exitInfo ?? { code: null, signal: null, at: performance.now() };
      return { code: info.code, signal: info.signal, durationMs: Math.max(0, info.at - sent), timedOut };
    },
  };
}

/**
 * Starts `cdp start` on a free port and resolves once `/health` answers 200 and the banner is
 * printed. Retries on another port when the chosen one was taken in between.
 */
export async function startServerProcess(options: StartOptions): Promise<ServerProcess> {
  const deadline = performance.now() + (options.startTimeoutMs ?? 45_000);
  for (let attempt = 1; attempt <= 3; attempt++) {
    const server = spawnServer(await freePort(), options);
    while (performance.now() < deadline && !server.exited()) {
      if (await healthy(server.url)) {
        // The banner is written right after listen; give the pipe a moment to deliver it.
        for (let i = 0; i < 50 && !server.stdout().includes('└'); i++) await sleep(100);
        return server;
      }
      await sleep(100);
    }
    const exit = await server.stop('SIGKILL', 5_000);
    if (!/EADDRINUSE/.test(server.stderr()) || attempt === 3) {
      throw new Error(
        `cdp start did not become healthy (exit ${exit.code ?? exit.signal})\n` +
          `stdout:\n${server.stdout()}\nstderr:\n${server.stderr()}`,
      );
    }
  }
  throw new Error('unreachable');
}
