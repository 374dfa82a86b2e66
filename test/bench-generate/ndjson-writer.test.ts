import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { NdjsonWriter } from '../../bench/generate/ndjson-writer.ts';

/** A slow sink with a tiny high-water mark, so that backpressure really happens. */
function sink(): { stream: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _encoding, done) {
      chunks.push(Buffer.from(chunk));
      setImmediate(done);
    },
  });
  return { stream, bytes: () => Buffer.concat(chunks) };
}

describe('NdjsonWriter', () => {
  it('writes every line once, in order, UTF-8 encoded, whatever their size', async () => {
    const { stream, bytes } = sink();
    const writer = new NdjsonWriter(stream, true);
    const lines = [
      ...Array.from({ length: 5000 }, (_, i) => `{"n":${i},"name":"Hélène ${'é'.repeat(i % 50)} 🛒"}`),
      'x'.repeat(2_000_000),
      'last',
    ];
    let waits = 0;
    for (const line of lines) {
      if (writer.push(line)) {
        waits++;
        await writer.drained();
      }
    }
    await writer.close();
    assert.equal(bytes().toString('utf8'), lines.join('\n') + '\n');
    assert.ok(waits > 0, 'backpressure was never reported');
    assert.ok(stream.writableFinished);
  });

  it('leaves a stream it does not own open', async () => {
    const { stream, bytes } = sink();
    const writer = new NdjsonWriter(stream, false);
    writer.push('a');
    await writer.close();
    assert.equal(stream.writableEnded, false);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(bytes().toString(), 'a\n');
  });
});
