import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { serve, type ServerType } from '@hono/node-server';
import { DISCARD_LIMIT_BYTES, DISCARD_TIMEOUT_MS } from './body.ts';
import { mcpHeaders, startTestApp, userClaims, type TestApp } from './testing.ts';

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
        if (sent >= total) {
          controller.close();
          return;
        }
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
    const outcome = await fetch(url, { method: 'POST', headers: headers(), body, duplex: 'half' } as RequestInit).then(
      (response) => response.status,
      () => 'connection closed',
    );
    assert.ok(outcome === 413 || outcome === 'connection closed', String(outcome));
    assert.ok(sent() < 200_000_000, 'the server read the whole body');
    assert.ok(performance.now() - started < DISCARD_TIMEOUT_MS + 3000);
    const next = await fetch(url, {
      method: 'POST',
      headers: headers(),
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(next.status, 200);
  });

  it('keeps the next requests working after a 413 for a declared oversize body', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { pad: 'x'.repeat(1_100_000) } });
    const response = await fetch(url, { method: 'POST', headers: headers(), body: big });
    assert.equal(response.status, 413);
    assert.equal(response.headers.get('connection'), 'close');
    await response.text();
    for (let i = 0; i < 5; i++) {
      const next = await fetch(url, {
        method: 'POST',
        headers: headers(),
        body: JSON.stringify({ jsonrpc: '2.0', id: i, method: 'tools/list' }),
      });
      assert.equal(next.status, 200);
      await next.text();
    }
  });

  /** Sends `bytes` as a chunked body (no Content-Length), in chunks of `size` bytes. */
  function chunked(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
    let offset = 0;
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= bytes.length) {
          controller.close();
          return;
        }
        controller.enqueue(bytes.slice(offset, offset + size));
        offset += size;
      },
    });
  }

  it('gates a tools/call whose body starts with a UTF-8 BOM, chunked or not, like any other (regression: the gate let it through)', async () => {
    const readOnly = await t.signer.sign(userClaims({ scope: 'mcp:tools trade:read portfolio:read' }));
    const message = new TextEncoder().encode(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 'place_order', arguments: { symbol: 'ACME', side: 'buy', quantity: 1 } },
      }),
    );
    const withBom = new Uint8Array([0xef, 0xbb, 0xbf, ...message]);
    const orders0 = t.stockApi.requests.filter((r) => r.method === 'POST').length;
    for (const [label, body, extra] of [
      ['chunked, BOM split across chunks', chunked(withBom, 2), { duplex: 'half' }],
      ['chunked, one chunk', chunked(withBom, withBom.length), { duplex: 'half' }],
      ['with Content-Length', withBom, {}],
    ] as const) {
      const response = await fetch(url, {
        method: 'POST',
        headers: mcpHeaders({ token: readOnly, headers: { 'mcp-protocol-version': '2025-11-25' } }),
        body,
        ...extra,
      } as RequestInit);
      assert.equal(response.status, 403, `${label}: ${await response.clone().text()}`);
      assert.match(response.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/, label);
      await response.text();
    }
    assert.equal(
      t.stockApi.requests.filter((r) => r.method === 'POST').length,
      orders0,
      'an order reached the stock API',
    );
    // The same BOM-prefixed call with the scope runs: the BOM is not a reason to refuse, only not a way around the gate.
    const trader = await t.signer.sign(userClaims({ scope: 'mcp:tools trade:read trade:write' }));
    const ok = await fetch(url, {
      method: 'POST',
      headers: mcpHeaders({ token: trader, headers: { 'mcp-protocol-version': '2025-11-25' } }),
      body: chunked(withBom, 3),
      duplex: 'half',
    } as RequestInit);
    assert.equal(ok.status, 200, await ok.clone().text());
    const reply = (await ok.json()) as { id: number; result?: { isError?: boolean } };
    assert.equal(reply.id, 7);
    assert.notEqual(reply.result?.isError, true, JSON.stringify(reply));
  });

  it('logs a client that hangs up mid-body at info level, not as an unhandled error', async () => {
    const { connect } = await import('node:net');
    const from = t.lines.length;
    const port = Number(new URL(url).port);
    await new Promise<void>((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1' }, () => {
        socket.write(
          [
            'POST /mcp HTTP/1.1',
            'host: localhost:3000',
            `authorization: Bearer ${token}`,
            'content-type: application/json',
            'accept: application/json, text/event-stream',
            'transfer-encoding: chunked',
            '',
            '10',
            '{"jsonrpc":"2.0"',
            '',
          ].join('\r\n'),
        );
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 100);
      });
      socket.on('error', reject);
    });
    // The server notices the reset on its side; give it a moment, then read the log.
    const deadline = Date.now() + 3000;
    const logged = () => t.lines.slice(from).map((line) => JSON.parse(line) as { level: string; msg: string });
    while (!logged().some((line) => line.msg === 'client aborted the request') && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(
      logged().filter((line) => line.level === 'error'),
      [],
    );
    assert.ok(
      logged().some((line) => line.msg === 'client aborted the request' && line.level === 'info'),
      JSON.stringify(logged()),
    );
  });
});
