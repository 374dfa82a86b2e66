/**
 * The debugger's live stream (GET …/events/stream) when its client stops reading: the server
 * must not buffer the workspace's traffic for it (tens of MB here, without bound in
 * production), and once the client reads again it gets every event, in order, from the log.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { it } from 'node:test';
import { sendOk, withApp, wsUrl } from '../support/http-helpers.ts';
import { SseReader } from '../support/sse.ts';
import { describeEachStore } from '../support/stores.ts';
import type { TestApp } from '../support/test-app.ts';

/** Well beyond what loopback socket buffers absorb (a few MB each way). */
const REQUESTS = 60;
const PER_REQUEST = 400;
const PADDING = 'x'.repeat(1_000);

async function bufferedBytes(t: TestApp): Promise<number> {
  const text = (await t.app.http.inject({ method: 'GET', url: '/metrics' })).body;
  const line = text.split('\n').find((l) => l.startsWith('cdp_live_stream_buffered_bytes '));
  assert.ok(line, 'the buffered-bytes gauge is exported');
  return Number(line.split(' ')[1]);
}

describeEachStore('live event stream with a client that stops reading', (fixture) => {
  it(
    'is held back instead of buffered, then delivers every event in order',
    { timeout: 120_000 },
    async () => {
      const { store } = await fixture.fresh();
      try {
        await withApp(store, {}, async (t) => {
          await t.app.http.listen({ port: 0, host: '127.0.0.1' });
          const { port } = t.app.http.server.address() as AddressInfo;
          const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
            const request = http.get(
              `http://127.0.0.1:${port}${wsUrl(t, '/events/stream')}`,
              { headers: { accept: 'text/event-stream', ...t.adminHeaders }, agent: false },
              resolve,
            );
            request.on('error', reject);
          });
          try {
            assert.equal(response.statusCode, 200);
            // Not read from now on: the socket's buffers fill, then the server's would.
            response.pause();
            let sent = 0;
            for (let r = 0; r < REQUESTS; r++) {
              const batch = Array.from({ length: PER_REQUEST }, () => ({
                type: 'track',
                userId: `u${sent % 50}`,
                event: 'Padded',
                messageId: `bp-${sent++}`,
                properties: { padding: PADDING },
              }));
              await sendOk(t, 'batch', { batch });
            }
            const total = REQUESTS * PER_REQUEST;
            // Let the stream write what it would.
            let buffered = 0;
            for (let i = 0; i < 20; i++) {
              await new Promise((resolve) => setTimeout(resolve, 50));
              buffered = Math.max(buffered, await bufferedBytes(t));
            }
            assert.ok(
              buffered < 2_000_000,
              `${buffered} bytes buffered for a client that reads nothing (${total} events of ~1 KB sent)`,
            );

            const reader = new SseReader(Readable.toWeb(response) as ReadableStream<Uint8Array>);
            let previous = 0;
            for (let i = 0; i < total; i++) {
              const { id, data } = await reader.nextMessage(20_000);
              assert.equal(data['messageId'], `bp-${i}`);
              assert.ok(Number(id) > previous, 'ids increase');
              previous = Number(id);
            }
            await reader.cancel();
          } finally {
            response.destroy();
          }
        });
      } finally {
        await store.close();
      }
    },
  );
});
