// Worker threads do not inherit loader hooks registered at run time, so the worker registers
// tsx itself before loading its TypeScript module.
import { register } from 'tsx/esm/api';

register();
await import('./decoder-worker.ts');
