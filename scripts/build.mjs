#!/usr/bin/env node
// Bundles the server and its worker threads into dist/ (our code only; packages stay external).
// `npm start` runs the bundle: no TypeScript loader threads at run time, less memory, faster
// start. `npm ci` builds it (prepare), and `npm start` rebuilds it, which takes well under a second.
import { build } from 'esbuild';

await build({
  entryPoints: {
    cdp: 'src/cli/main.ts',
    'decoder-worker': 'src/ingestion/workers/decoder-worker.ts',
    'wal-checkpoint-worker': 'src/storage/sqlite/wal-checkpoint-worker.ts',
    'pipeline-thread-worker': 'src/app/pipeline-thread-worker.ts',
  },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  packages: 'external',
  sourcemap: true,
  define: { CDP_BUNDLED: 'true' },
  logLevel: 'warning',
});
