import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort, runCdp, startServerProcess, type RunResult } from '../e2e/server-process.ts';

/**
 * `cdp start` when it cannot serve: it must exit at once with a message naming the variable,
 * having released the data dir (a process left running would hold the store's lock and
 * answer nobody, and look alive to a service manager).
 */

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cdp-start-'));
  dirs.push(dir);
  return dir;
}

function failedFast(result: RunResult, message: RegExp): void {
  assert.equal(result.timedOut, false, `the process ends by itself; stderr:\n${result.stderr}`);
  assert.equal(result.code, 2, `exit code; stderr:\n${result.stderr}`);
  assert.match(result.stderr, message);
  assert.doesNotMatch(result.stderr, /\n\s+at .+:\d+/, 'no stack trace');
}

describe('cdp start that cannot listen', () => {
  it(
    'exits with a message naming PORT when the port is taken, and frees the data dir',
    { timeout: 180_000 },
    async () => {
      const port = await freePort();
      const blocker: Server = createServer();
      await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
      const env = { CDP_DATA_DIR: dataDir() };
      try {
        const result = await runCdp(['start'], { ...env, PORT: String(port) }, 60_000);
        failedFast(result, new RegExp(`PORT: 127\\.0\\.0\\.1:${port} is already in use`));
      } finally {
        await new Promise((resolve) => blocker.close(resolve));
      }
      // The lock and the store were released: a server on another port starts on the same data.
      const server = await startServerProcess({ env });
      try {
        assert.equal((await fetch(`${server.url}/health`)).status, 200);
      } finally {
        assert.equal((await server.stop('SIGTERM')).code, 0);
      }
    },
  );

  it(
    'exits with a message naming HOST for an address that is not this machine’s or a name that does not resolve',
    { timeout: 180_000 },
    async () => {
      const port = String(await freePort());
      const [foreign, unresolvable] = await Promise.all([
        runCdp(['start'], { CDP_DATA_DIR: dataDir(), PORT: port, HOST: '10.254.254.254' }, 60_000),
        runCdp(['start'], { CDP_DATA_DIR: dataDir(), PORT: port, HOST: 'not..a..host' }, 60_000),
      ]);
      failedFast(foreign, /HOST: 10\.254\.254\.254 is not an address of this machine/);
      failedFast(unresolvable, /HOST: cannot resolve the host name "not\.\.a\.\.host"/);
    },
  );
});
