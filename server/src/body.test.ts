import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { serve, type ServerType } from '@hono/node-server';
import { blockNetwork, createTestApp, mcpHeaders, type TestApp } from './testing.ts';

describe('readBodyLimited (over a real connection, through the app)', () => {
  let t: TestApp;
  let server: ServerType;
  let url: string;
  let token: string;

  before(async () => {
    blockNetwork();
    t = await createTestApp();
    token = await t.signer.sign();
    server = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await t.close();
  });

  const headers = () => mcpHeaders({ token, headers: { 'mcp-protocol-version': '2025-11-25' } });

  it('answers a chunked body over the limit with 413 and Connection: close, not a reset connection (regression)', async () => {
    let sent = 0;
    const chunk = new Uint8Array(64 * 1024).fill(0x78);
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > 50_000_000) { controller.close(); return; }
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const response = await fetch(url, { method: 'POST', headers: headers(), body, duplex: 'half' } as RequestInit);
    assert.equal(response.status, 413);
    assert.equal(response.headers.get('connection'), 'close');
    assert.equal(((await response.json()) as { error: { code: number } }).error.code, -32600);
    assert.ok(sent < 50_000_000, 'the server read the whole oversize body');
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
