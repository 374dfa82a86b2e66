#!/usr/bin/env node
// Runs every test file under test/ with node's test runner through tsx.
// Node 20's --test does not expand globs, so the files are listed here.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return find(full);
    return name.endsWith('.test.ts') ? [full] : [];
  });
}

const filters = process.argv.slice(2);
const files = find('test')
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const concurrency = process.env.CDP_TEST_CONCURRENCY ?? '4';
// A failed assertion can skip a test's cleanup and leave a server or store open: the file's
// process then never exits and the run hangs instead of failing. test/support/exit-when-done.mjs
// ends such a process 10 s after its last test, with a failure (not --test-force-exit: it loses
// results under concurrency and exits 0). A single test gives up after 10 minutes (the slowest
// take about 1.5 under CI load).
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    '--import',
    './test/support/exit-when-done.mjs',
    '--test-timeout=600000',
    '--test-reporter=spec',
    ...files,
  ],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
