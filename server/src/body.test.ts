import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { serve, type ServerType } from '@hono/node-server';
import { DISCARD_LIMIT_BYTES, DISCARD_TIMEOUT_MS } from './body.ts';
import { mcpHeaders, startTestApp, type TestApp } from './testing.ts';

describe('readBodyLimited (over a real connection, through the app)', () => {
  let t: TestApp;
  let server: ServerType;
  let url: string;
  let token: string;

  before(async () => {
    ({ t, token } = await startTestApp());
    server = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await t.close();
  });

  const headers = () => mcpHeaders({ token, headers: { 'mcp-protocol-version': '2025-11-25' } });

  /** A chunked (no Content-Length) body of about `total` bytes, counting what the client managed to send. */
  function chunkedBody(total: number): { body: ReadableStream<Uint8Array>; sent: () => number } {
    let sent = 0;
    const chunk = new Uint8Array(64 * 1024).fill(0x78);
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= total) { controller.close(); return; }
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    return { body, sent: () => sent };
  }

  it('answers a chunked body over the limit with 413 and Connection: close, not a reset connection (regression)', async () => {
    for (let i = 0; i < 5; i++) {
      const { body } = chunkedBody(3_000_000);
      const response = await fetch(url, { method: 'POST', headers: headers(), body, duplex: 'half' } as RequestInit);
      assert.equal(response.status, 413);
      assert.equal(response.headers.get('connection'), 'close');
      assert.equal(((await response.json()) as { error: { code: number } }).error.code, -32600);
    }
  });

  it(`stops reading an endless chunked body after ${DISCARD_LIMIT_BYTES} bytes or ${DISCARD_TIMEOUT_MS} ms`, async () => {
    const { body, sent } = chunkedBody(200_000_000);
    const started = performance.now();
    const outcome = await fetch(url, { method: 'POST', headers: headers(), body, duplex: 'half' } as RequestInit)
      .then((response) => response.status, () => 'connection closed');
    assert.ok(outcome === 413 || outcome === 'connection closed', String(outcome));
    assert.ok(sent() < 200_000_000, 'the server read the whole body');
    assert.ok(performance.now() - started < DISCARD_TIMEOUT_MS + 3000);
    const next = await fetch(url, { method: 'POST', headers: headers(), body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
    assert.equal(next.status, 200);
  });

  it('keeps the next requests working after a 413 for a declared oversize body', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { pad: 'x'.repeat(1_100_000) } });
    const response = await fetch(url, { method: 'POST', headers: headers(), body: big });
    assert.equal(response.status, 413);
    assert.equal(response.headers.get('connection'), 'close');
    await response.text();
    for (let i = 0; i < 5; i++) {
      const next = await fetch(url, { method: 'POST', headers: headers(), body: JSON.stringify({ jsonrpc: '2.0', id: i, method: 'tools/list' }) });
      assert.equal(next.status, 200);
      await next.text();
    }
  });
});
