/**
 * The generator's options: what callers may pass, the defaults, and validation into a frozen,
 * fully resolved form that the rest of the generator reads.
 */
import { createPrng } from './prng.ts';
import { RandomStream } from './random-streams.ts';

/**
 * How the message stream is ordered.
 * - `person`: person after person, each person's messages in time order (cheapest).
 * - `shuffled`: `person` order passed through a PRNG shuffle window of `shuffleWindow` messages.
 * - `time`: globally ordered by timestamp, built in several passes over the people (see README).
 */
export type StreamOrder = 'person' | 'shuffled' | 'time';

/** Which identifier the super-node members share. */
export type SuperNodeKind = 'anonymousId' | 'email';

export interface SuperNodeOptions {
  /** How many people share the identifier. */
  size: number;
  kind: SuperNodeKind;
  /** The shared value; defaults to a seed-derived UUID (kiosk) or `info@shop.example`. */
  value?: string;
}

export interface ShopOptions {
  people: number;
  seed: number;
  /** End of the simulated period (exclusive). Default `DEFAULT_END`, never "now", for determinism. */
  end?: Date;
  /** Length of the simulated period in calendar months before `end`. Default 6. */
  months?: number;
  /** Multiplier on the number of sessions. Default 1. */
  activity?: number;
  order?: StreamOrder;
  /** Messages held by the `shuffled` order. Default 10,000. */
  shuffleWindow?: number;
  /** Messages held at most by one pass of the `time` order. Default 500,000. */
  timeBuffer?: number;
  superNode?: SuperNodeOptions;
}

export interface ResolvedSuperNode {
  readonly size: number;
  readonly kind: SuperNodeKind;
  /** Trimmed; lower-cased for e-mails. */
  readonly value: string;
  /** Members are the people whose index is a multiple of `stride`, below `size * stride`. */
  readonly stride: number;
}

export interface ResolvedShopOptions {
  readonly people: number;
  readonly seed: number;
  /** Epoch milliseconds, inclusive. */
  readonly start: number;
  /** Epoch milliseconds, exclusive. */
  readonly end: number;
  readonly months: number;
  readonly activity: number;
  readonly order: StreamOrder;
  readonly shuffleWindow: number;
  readonly timeBuffer: number;
  readonly superNode: ResolvedSuperNode | null;
}

export type ShopOptionsResult =
  | { readonly ok: true; readonly options: ResolvedShopOptions }
  | { readonly ok: false; readonly errors: readonly string[] };

export const DEFAULT_END = new Date('2025-01-01T00:00:00.000Z');
export const MAX_PEOPLE = 10_000_000;
export const DEFAULT_SUPER_NODE_EMAIL = 'info@shop.example';
const STREAM_ORDERS: readonly StreamOrder[] = ['person', 'shuffled', 'time'];

export class InvalidShopOptionsError extends Error {
  readonly errors: readonly string[];
  constructor(errors: readonly string[]) {
    super(`invalid shop options: ${errors.join('; ')}`);
    this.name = 'InvalidShopOptionsError';
    this.errors = errors;
  }
}

/** Validates and resolves options; an invalid input is an expected outcome, so it is returned. */
export function validateShopOptions(input: ShopOptions): ShopOptionsResult {
  const errors: string[] = [];
  const check = (ok: boolean, message: string): void => {
    if (!ok) errors.push(message);
  };
  const people = input.people;
  const months = input.months ?? 6;
  const activity = input.activity ?? 1;
  const order = input.order ?? 'person';
  const shuffleWindow = input.shuffleWindow ?? 10_000;
  const timeBuffer = input.timeBuffer ?? 500_000;
  const endDate = input.end ?? DEFAULT_END;
  check(isIntegerIn(people, 1, MAX_PEOPLE), `people must be an integer in [1, ${MAX_PEOPLE}]`);
  check(isIntegerIn(input.seed, 0, 0xffffffff), 'seed must be an integer in [0, 2^32 - 1]');
  check(endDate instanceof Date && Number.isFinite(endDate.getTime()), 'end must be a valid Date');
  check(isIntegerIn(months, 1, 120), 'months must be an integer in [1, 120]');
  check(typeof activity === 'number' && activity > 0 && activity <= 20, 'activity must be in (0, 20]');
  check(STREAM_ORDERS.includes(order), `order must be one of ${STREAM_ORDERS.join(', ')}`);
  check(isIntegerIn(shuffleWindow, 1, 100_000_000), 'shuffleWindow must be a positive integer');
  check(isIntegerIn(timeBuffer, 1, 100_000_000), 'timeBuffer must be a positive integer');
  const superNode = resolveSuperNode(input, errors);
  if (errors.length > 0) return { ok: false, errors };
  const end = endDate.getTime();
  const start = new Date(end);
  start.setUTCMonth(start.getUTCMonth() - months);
  const options: ResolvedShopOptions = {
    people,
    seed: input.seed,
    start: start.getTime(),
    end,
    months,
    activity,
    order,
    shuffleWindow,
    timeBuffer,
    superNode,
  };
  return { ok: true, options: Object.freeze(options) };
}

/** Like `validateShopOptions`, for callers that treat invalid options as a programming error. */
export function resolveShopOptions(input: ShopOptions): ResolvedShopOptions {
  const result = validateShopOptions(input);
  if (!result.ok) throw new InvalidShopOptionsError(result.errors);
  return result.options;
}

function resolveSuperNode(input: ShopOptions, errors: string[]): ResolvedSuperNode | null {
  const spec = input.superNode;
  if (spec === undefined) return null;
  if (spec.kind !== 'anonymousId' && spec.kind !== 'email') {
    errors.push('superNode.kind must be "anonymousId" or "email"');
    return null;
  }
  if (!isIntegerIn(spec.size, 2, input.people)) {
    errors.push('superNode.size must be an integer in [2, people]');
    return null;
  }
  const value = resolveSharedValue(spec, input.seed);
  if (value === '') errors.push('superNode.value must not be blank');
  if (spec.kind === 'email' && !/^[^\s@]+@[^\s@]+$/.test(value)) {
    errors.push('superNode.value must be an e-mail address');
  }
  return Object.freeze({
    size: spec.size,
    kind: spec.kind,
    value,
    stride: Math.floor(input.people / spec.size),
  });
}

function resolveSharedValue(spec: SuperNodeOptions, seed: number): string {
  if (spec.value !== undefined) {
    const trimmed = spec.value.trim();
    return spec.kind === 'email' ? trimmed.toLowerCase() : trimmed;
  }
  if (spec.kind === 'email') return DEFAULT_SUPER_NODE_EMAIL;
  return createPrng(seed >>> 0, RandomStream.superNode).uuid();
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}
