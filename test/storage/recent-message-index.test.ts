import assert from 'node:assert/strict';
import { it } from 'node:test';
import { messageKeyHash, RecentMessageIndex } from '../../src/storage/sqlite/recent-message-index.ts';

it('finds every position added under a hash, across buckets, and forgets pruned buckets', () => {
  const index = new RecentMessageIndex(60_000);
  const expected = new Map<number, number[]>();
  let seq = 0;
  // Enough entries to grow each bucket several times; hashes repeat on purpose (collisions).
  for (let minute = 0; minute < 3; minute++)
    for (let i = 0; i < 50_000; i++) {
      const hash = messageKeyHash('ws_1', `m-${i % 40_000}`);
      index.add(hash, ++seq, minute * 60_000 + i);
      expected.set(hash, [...(expected.get(hash) ?? []), seq]);
    }
  assert.equal(index.size, 150_000);
  for (const [hash, seqs] of [...expected].slice(0, 5_000))
    assert.deepEqual(
      index.candidates(hash).sort((a, b) => a - b),
      seqs,
    );
  assert.deepEqual(index.candidates(messageKeyHash('ws_1', 'never-added')), []);
  index.prune(120_000);
  assert.equal(index.size, 50_000);
  const hash = messageKeyHash('ws_1', 'm-7');
  assert.deepEqual(
    index.candidates(hash),
    (expected.get(hash) ?? []).filter((s) => s > 100_000),
  );
});

it('holds more entries in one bucket than a Map can (2^24)', { timeout: 120_000 }, () => {
  const index = new RecentMessageIndex(6 * 3_600_000);
  const count = (1 << 24) + 10;
  for (let seq = 1; seq <= count; seq++) index.add(seq & 0x3fffffff, seq, 0);
  assert.equal(index.size, count);
  assert.deepEqual(index.candidates(count & 0x3fffffff), [count]);
  assert.deepEqual(index.candidates(0x3ffffff0), []);
});

it('answers exactly, once per position, at every step while a bucket grows', () => {
  // Buckets grow into a larger table a few slots per add: between two adds some entries are in
  // the new table and some only in the old one. Each lookup must see each position once.
  const index = new RecentMessageIndex(60_000);
  const expected = new Map<number, number[]>();
  const hashes: number[] = [];
  for (let seq = 1; seq <= 30_000; seq++) {
    // Every tenth key repeats an earlier one (a retried messageId), so chains hold repeats.
    const hash = messageKeyHash('ws_1', `m-${seq % 10 === 0 ? seq / 10 : seq}`);
    index.add(hash, seq, 0);
    hashes.push(hash);
    expected.set(hash, [...(expected.get(hash) ?? []), seq]);
    for (const probe of [hash, hashes[(seq * 7919) % hashes.length] as number])
      assert.deepEqual(
        index.candidates(probe).sort((a, b) => a - b),
        expected.get(probe),
        `after ${seq} adds`,
      );
  }
  assert.equal(index.size, 30_000);
});
