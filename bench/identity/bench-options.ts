/**
 * Options of the identity benchmark, read once from the environment. Defaults keep a run within
 * minutes on the 2-core development machine; docs/PERFORMANCE.md says which sizes were run.
 */

export interface IdentityBenchOptions {
  /** People in the larger data set; the smaller one has half as many. */
  readonly people: number;
  /** Data set sizes run, in order: `BENCH_SIZES` (comma-separated), else half of `people`, then `people`. */
  readonly sizes: readonly number[];
  /** People sharing one anonymousId in the super-node scenario (the issue asks for 1,000). */
  readonly superNodeSize: number;
  /** People in the super-node scenario (at least `superNodeSize`). */
  readonly superNodePeople: number;
  /** Seconds of the bare durable-append baseline (the ingest benchmark's closed loop). */
  readonly baselineSeconds: number;
  /** Profile lookups measured over HTTP (after a warm-up of a tenth as many). */
  readonly lookups: number;
  /** Concurrent keep-alive connections of the lookup load. */
  readonly lookupConnections: number;
  /** Run the PostgreSQL parts (pipeline, label propagation) when PostgreSQL is reachable. */
  readonly postgres: boolean;
  readonly seed: number;
}

export function integer(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer ≥ ${min}`);
  return value;
}

/** `BENCH_SIZES=1000000` runs one size alone: at a million people a run takes hours here. */
function sizes(people: number): number[] {
  const raw = process.env['BENCH_SIZES'];
  if (raw === undefined || raw.trim() === '')
    return [...new Set([Math.max(1, Math.floor(people / 2)), people])];
  return raw.split(',').map((part) => {
    const value = Number(part.trim());
    if (!Number.isInteger(value) || value < 2)
      throw new Error(`BENCH_SIZES must be comma-separated integers ≥ 2, got "${raw}"`);
    return value;
  });
}

export function readBenchOptions(): IdentityBenchOptions {
  const superNodeSize = integer('BENCH_SUPER_NODE_SIZE', 1_000, 2);
  const people = integer('BENCH_PEOPLE', 5_000, 2);
  return {
    people,
    sizes: sizes(people),
    superNodeSize,
    superNodePeople: integer('BENCH_SUPER_NODE_PEOPLE', superNodeSize, superNodeSize),
    baselineSeconds: integer('BENCH_SECONDS', 10, 1),
    lookups: integer('BENCH_LOOKUPS', 5_000, 10),
    lookupConnections: integer('BENCH_LOOKUP_CONNECTIONS', 4, 1),
    postgres: process.env['BENCH_POSTGRES'] !== '0',
    seed: integer('BENCH_SEED', 7, 0),
  };
}
