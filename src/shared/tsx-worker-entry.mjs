// Entry of worker threads started from the TypeScript sources (see worker-script.ts): worker
// threads do not inherit loader hooks registered at run time, so register tsx, then load the
// worker's module. Its own data is in workerData.data.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.module);
