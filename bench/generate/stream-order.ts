/**
 * Reordering the person-by-person stream with bounded memory.
 *
 * - `shuffleWindow`: a reservoir of K items; each new item takes the place of a random one,
 *   which is emitted. Items move at most ~K positions forward, so one person's messages get
 *   interleaved with their neighbours' and may arrive out of order (as over a real network).
 * - `timeOrder`: exact global time order without holding the whole stream, by regenerating it:
 *   a first pass counts messages per hour, then each pass keeps only one slice of hours that
 *   fits in the buffer, sorts it and emits it. Cost: (1 + slices) generations of the stream.
 */
import type { Prng } from './prng.ts';
import type { GeneratedMessage } from './segment-message.ts';

const HOUR = 3_600_000;

export function* shuffleWindow<T>(source: Iterable<T>, window: number, prng: Prng): Generator<T> {
  const buffer: T[] = [];
  for (const item of source) {
    if (buffer.length < window) {
      buffer.push(item);
      continue;
    }
    const j = Math.floor(prng.next() * window);
    const out = buffer[j] as T;
    buffer[j] = item;
    yield out;
  }
  // Drain with a Fisher–Yates pass so the tail is as mixed as the rest.
  while (buffer.length > 0) {
    const j = Math.floor(prng.next() * buffer.length);
    const last = buffer.length - 1;
    const out = buffer[j] as T;
    buffer[j] = buffer[last] as T;
    buffer.pop();
    yield out;
  }
}

export interface TimeOrderSource {
  /** Epoch ms, inclusive: no message is earlier. */
  readonly start: number;
  /** Epoch ms, exclusive: no message is later. */
  readonly end: number;
  /** Most messages to hold at once (a single hour holding more is still emitted whole). */
  readonly buffer: number;
  /** Produces the same stream on every call. */
  readonly replay: () => Iterable<GeneratedMessage>;
}

/** Messages sorted by `time` (ties keep the source order), holding at most one slice. */
export function* timeOrder(source: TimeOrderSource): Generator<GeneratedMessage> {
  const hours = Math.max(1, Math.ceil((source.end - source.start) / HOUR));
  const hourOf = (time: number): number =>
    Math.min(hours - 1, Math.max(0, Math.floor((time - source.start) / HOUR)));
  const counts = new Float64Array(hours);
  for (const generated of source.replay()) {
    const hour = hourOf(generated.time);
    counts[hour] = (counts[hour] ?? 0) + 1;
  }
  for (const [first, last] of slices(counts, source.buffer)) {
    const slice: GeneratedMessage[] = [];
    for (const generated of source.replay()) {
      const hour = hourOf(generated.time);
      if (hour >= first && hour <= last) slice.push(generated);
    }
    slice.sort((a, b) => a.time - b.time);
    yield* slice;
  }
}

/** Consecutive hour ranges [first, last] holding at most `buffer` messages each (or one hour). */
export function slices(counts: Float64Array, buffer: number): [number, number][] {
  const ranges: [number, number][] = [];
  let first = 0;
  let held = 0;
  for (let hour = 0; hour < counts.length; hour++) {
    const count = counts[hour] ?? 0;
    if (held > 0 && held + count > buffer) {
      ranges.push([first, hour - 1]);
      first = hour;
      held = 0;
    }
    held += count;
  }
  if (held > 0) ranges.push([first, counts.length - 1]);
  return ranges;
}
