/**
 * Options of the identity benchmark, read once from the environment. Defaults keep a run within
 * minutes on the 2-core development machine; docs/PERFORMANCE.md says which sizes were run.
 */

export interface IdentityBenchOptions {
  /** People in the larger data set; the smaller one has half as many. */
  readonly people: number;
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

export function readBenchOptions(): IdentityBenchOptions {
  const superNodeSize = integer('BENCH_SUPER_NODE_SIZE', 1_000, 2);
  return {
    people: integer('BENCH_PEOPLE', 5_000, 2),
    superNodeSize,
    superNodePeople: integer('BENCH_SUPER_NODE_PEOPLE', superNodeSize, superNodeSize),
    baselineSeconds: integer('BENCH_SECONDS', 10, 1),
    lookups: integer('BENCH_LOOKUPS', 5_000, 10),
    lookupConnections: integer('BENCH_LOOKUP_CONNECTIONS', 4, 1),
    postgres: process.env['BENCH_POSTGRES'] !== '0',
    seed: integer('BENCH_SEED', 7, 0),
  };
}
