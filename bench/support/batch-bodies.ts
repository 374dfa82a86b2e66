import { generateShop } from '../generate/index.ts';

export interface BatchBody {
  readonly body: Buffer;
  readonly events: number;
}

/**
 * `/v1/batch` bodies of generator traffic (shuffled), `count` of them. One shop of `people`
 * holds ~32 events per person; when it runs out before `count` (a fast machine's peak takes
 * a 20,000-person shop in about ten seconds), the shop of the next seed follows, whose message
 * ids differ, so a load never runs dry or repeats itself into the dedup.
 */
export function batchBodies(
  count: number,
  options: { people: number; seed: number; batchSize: number },
): BatchBody[] {
  const out: BatchBody[] = [];
  for (let seed = options.seed; out.length < count; seed += 1) {
    let batch: unknown[] = [];
    const before = out.length;
    for (const { message } of generateShop({ people: options.people, seed, order: 'shuffled' })) {
      batch.push(message);
      if (batch.length < options.batchSize) continue;
      out.push({ body: Buffer.from(JSON.stringify({ batch })), events: batch.length });
      batch = [];
      if (out.length >= count) break;
    }
    if (out.length === before) throw new Error('the generator produced no batch');
  }
  return out;
}
