import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { answerClientErrors, drain } from './serve.ts';
import { captureLogs, closedPort, startFakeServer } from './testing.ts';

/** A Node server for `app` on a free loopback port. */
async function listen(app: Hono): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
      resolve({ server: server as Server, port: info.port }),
    ) as Server;
  });
}

/** Writes `request` in one go and reads until the server closes: what came back, and whether it was a reset. */
function rawExchange(port: number, request: string): Promise<{ text: string; reset: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let reset = false;
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.on('error', (error: NodeJS.ErrnoException) => (reset = error.code === 'ECONNRESET'));
    socket.on('close', () => resolve({ text, reset }));
    socket.write(request, () => socket.end());
  });
}

describe('answerClientErrors', () => {
  it('answers a 137 KB Authorization header with a readable 431, not a connection reset', async () => {
    const app = new Hono().all('*', (c) => c.text('never reached'));
    const { server, port } = await listen(app);
    answerClientErrors(server, captureLogs().logger);
    try {
      const token = 'a'.repeat(137_000);
      const { text, reset } = await rawExchange(
        port,
        `POST /mcp HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\nContent-Length: 2\r\n\r\n{}`,
      );
      assert.equal(reset, false, 'the client saw a connection reset');
      assert.match(text, /^HTTP\/1\.1 431 /);
      assert.match(text, /request_header_fields_too_large/);
      assert.doesNotMatch(text, /never reached/);
    } finally {
      server.close();
    }
  });
});

describe('drain', () => {
  it('lets a slow request in flight finish after shutdown begins, refuses new connections, then closes', async () => {
    let release: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      const app = new Hono().get('/slow', async (c) => {
        resolve();
        await new Promise<void>((done) => (release = done));
        return c.text('finished');
      });
      void listen(app).then((listening) => Object.assign(state, listening));
    });
    const state = {} as { server: Server; port: number };
    await new Promise((resolve) => setTimeout(resolve, 50));
    const inFlight = fetch(`http://127.0.0.1:${state.port}/slow`);
    await started;
    let closed = false;
    const stopping = drain(state.server, {
      timeoutMs: 10_000,
      close: async () => {
        closed = true;
      },
      logger: captureLogs().logger,
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await assert.rejects(fetch(`http://127.0.0.1:${state.port}/slow`), 'a new connection was accepted while draining');
    assert.equal(closed, false, 'closed the caches before the request finished');
    release();
    const response = await inFlight;
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'finished');
    assert.equal(await stopping, true);
    assert.equal(closed, true);
  });

  it('cuts a request still running at the deadline, and says so', async () => {
    const app = new Hono().get('/stuck', () => new Promise<Response>(() => {}));
    const { server, port } = await listen(app);
    const { logger, lines } = captureLogs();
    const stuck = fetch(`http://127.0.0.1:${port}/stuck`).catch((error: Error) => error);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(await drain(server, { timeoutMs: 200, close: async () => {}, logger }), false);
    assert.ok((await stuck) instanceof Error, 'the stuck request should have been cut');
    assert.ok(lines.some((line) => /requests still running at the deadline were cut/.test(line)));
    assert.equal((server.address() as AddressInfo | null) ?? null, null);
  });
});

describe('main.ts on SIGTERM', () => {
  it('finishes a slow request in flight, then exits 0', async () => {
    // A realm whose key endpoint answers after 1.5 s makes /readyz a slow request.
    const slowKeycloak = await startFakeServer(() => ({ delayMs: 1500, json: { keys: [] } }));
    const port = await closedPort();
    const child = spawn(process.execPath, [fileURLToPath(new URL('./main.ts', import.meta.url))], {
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        ISSUER_URL: `${slowKeycloak.url}/realms/sandbox`,
        EXPLORER: 'off',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      for (let i = 0; i < 100 && !output.includes('mcp server listening'); i++)
        await new Promise((resolve) => setTimeout(resolve, 100));
      assert.match(output, /mcp server listening/);
      const slow = fetch(`http://127.0.0.1:${port}/readyz`, { headers: { host: 'localhost' } });
      await new Promise((resolve) => setTimeout(resolve, 400));
      child.kill('SIGTERM');
      const response = await slow;
      assert.equal(response.status, 200, output);
      assert.equal(((await response.json()) as { status: string }).status, 'ready');
      assert.equal(await exited, 0, output);
      assert.match(output, /shutting down: finishing requests in flight/);
      assert.match(output, /"finishedInFlight":true/);
    } finally {
      child.kill('SIGKILL');
      await slowKeycloak.close();
    }
  });
});
