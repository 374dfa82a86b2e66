import { Worker, type WorkerOptions } from 'node:worker_threads';

/** Set by scripts/build.mjs: in the bundle each worker is dist/<name>.mjs, beside the server. */
declare const CDP_BUNDLED: boolean | undefined;

/**
 * Starts a worker thread running `sourceModule`. From the sources, worker threads do not
 * inherit loader hooks registered at run time, so a small entry registers tsx first; in the
 * bundle, the worker is its own prebuilt file. Either way the worker finds `data` at
 * `workerData.data`.
 */
export function startWorker(
  name: string,
  sourceModule: URL,
  options: Omit<WorkerOptions, 'workerData'> & { data?: unknown },
): Worker {
  const { data, ...rest } = options;
  if (typeof CDP_BUNDLED !== 'undefined' && CDP_BUNDLED) {
    return new Worker(new URL(`./${name}.mjs`, import.meta.url), { ...rest, workerData: { data } });
  }
  return new Worker(new URL('./tsx-worker-entry.mjs', import.meta.url), {
    ...rest,
    workerData: { module: sourceModule.href, data },
  });
}
