/**
 * npm run bench — every benchmark, one after the other. Each prints its own table with ratios
 * against a baseline measured in the same run; figures go into docs/PERFORMANCE.md by hand.
 */
import { spawnSync } from 'node:child_process';

const BENCHES = [
  'bench/ingest/ingest.bench.ts',
  'bench/identity/identity.bench.ts',
  'bench/segments/segments.bench.ts',
];

let failed = false;
for (const file of BENCHES) {
  process.stdout.write(`\n== ${file}\n`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', file], { stdio: 'inherit' });
  if (result.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
