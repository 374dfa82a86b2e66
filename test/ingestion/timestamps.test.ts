import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIsoTimestamp } from '../../src/ingestion/timestamps.ts';

describe('parseIsoTimestamp', () => {
  // The canonical form (what toISOString writes) has a fast path; the same text with a space
  // instead of the "T" takes the general one. Both must agree on every value, valid or not.
  it('parses the canonical form exactly as the general path does', () => {
    const values = [
      '2026-11-29T12:00:00.000Z',
      '2024-02-29T23:59:59.999Z',
      '2026-02-29T00:00:00.000Z',
      '2026-02-30T00:00:00.000Z',
      '2026-04-31T00:00:00.000Z',
      '2026-12-31T24:00:00.000Z',
      '2026-13-01T00:00:00.000Z',
      '2026-00-10T00:00:00.000Z',
      '2026-01-00T00:00:00.000Z',
      '2026-01-01T00:60:00.000Z',
      '2026-01-01T00:00:60.000Z',
      '0999-01-01T00:00:00.000Z',
      '1000-01-01T00:00:00.000Z',
      '9999-12-31T23:59:59.999Z',
      '2026-1a-01T00:00:00.000Z',
      '2026-01-01T00:00:00.00aZ',
      '2026-01-01T00:00:00.000z',
    ];
    for (let i = 0; i < 2000; i++) {
      const pad = (n: number, w: number) => String(n).padStart(w, '0');
      const r = (n: number) => Math.floor(Math.random() * n);
      values.push(
        `${pad(1990 + r(60), 4)}-${pad(r(14), 2)}-${pad(r(33), 2)}T${pad(r(26), 2)}:${pad(r(62), 2)}:${pad(r(62), 2)}.${pad(r(1000), 3)}Z`,
      );
    }
    for (const value of values) {
      assert.equal(parseIsoTimestamp(value), parseIsoTimestamp(value.replace('T', ' ')), value);
    }
    assert.equal(parseIsoTimestamp('2026-11-29T12:00:00.000Z'), Date.UTC(2026, 10, 29, 12));
    assert.equal(parseIsoTimestamp('2026-02-29T00:00:00.000Z'), undefined);
  });
});
