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

describe('parseIsoTimestamp leniency', () => {
  it("accepts what Segment's own examples send, and still refuses impossible values", () => {
    // Segment's HTTP API documentation's batch example: a month of one digit.
    assert.equal(parseIsoTimestamp('2015-2-02T00:30:08.276Z'), Date.UTC(2015, 1, 2, 0, 30, 8, 276));
    assert.equal(parseIsoTimestamp('2015-02-2T00:30:08Z'), Date.UTC(2015, 1, 2, 0, 30, 8));
    assert.equal(parseIsoTimestamp('2026-11-29t12:00:00z'), Date.UTC(2026, 10, 29, 12));
    assert.equal(parseIsoTimestamp('2026-11-29T12:00:00+01'), Date.UTC(2026, 10, 29, 11));
    assert.equal(parseIsoTimestamp('2026-11-29T12:00:00-0230'), Date.UTC(2026, 10, 29, 14, 30));
    for (const bad of [
      '2015-2-30T00:00:00Z',
      '2015-123-01',
      '2015-02-002',
      '2026-11-29T12:00:00+1',
      '2026-11-29x12:00',
    ])
      assert.equal(parseIsoTimestamp(bad), undefined, bad);
  });
});
