// Waiting for a service: ready on a 2xx, service_failed with the log tail when the process died, not_ready on timeout.
// All against 127.0.0.1, with timeouts of a few hundred milliseconds.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { StackError } from './errors.ts';
import { waitForHttp } from './wait.ts';

let server: Server;
let healthz: string;
let closedUrl: string;

async function listen(target: Server): Promise<number> {
  target.listen(0, '127.0.0.1');
  await once(target, 'listening');
  return (target.address() as AddressInfo).port;
}

before(async () => {
  server = createServer((request, response) => {
    response.writeHead(request.url === '/healthz' ? 200 : 503).end();
  });
  healthz = `http://127.0.0.1:${await listen(server)}/healthz`;
  const probe = createServer();
  closedUrl = `http://127.0.0.1:${await listen(probe)}/healthz`;
  probe.close();
  await once(probe, 'close');
});
after(() => {
  server.closeAllConnections();
  server.close();
});

describe('waitForHttp', () => {
  it('resolves with the seconds it waited once the server answers 200', async () => {
    const seconds = await waitForHttp({ url: healthz, service: 'stock-api', timeoutMs: 300 });
    assert.equal(typeof seconds, 'number');
    assert.ok(seconds >= 0 && seconds < 0.3, `waited ${seconds} s`);
  });

  it('throws service_failed with the log tail when the process is no longer alive', async () => {
    await assert.rejects(
      waitForHttp({
        url: closedUrl,
        service: 'keycloak',
        timeoutMs: 300,
        isAlive: () => false,
        logTail: () => 'ERROR: boom\nshutting down',
      }),
      (error: unknown) => {
        assert.ok(error instanceof StackError);
        assert.equal(error.code, 'service_failed');
        assert.equal(
          error.message,
          'keycloak exited before it was ready.\n--- last log lines ---\nERROR: boom\nshutting down',
        );
        assert.match(error.fix, /read the log above/);
        return true;
      },
    );
  });

  it('throws not_ready naming the URL after timeoutMs when nothing answers', async () => {
    const started = performance.now();
    await assert.rejects(
      waitForHttp({
        url: closedUrl,
        service: 'mcp-server',
        timeoutMs: 300,
        isAlive: () => true,
        logTail: () => 'still starting',
      }),
      (error: unknown) => {
        assert.ok(error instanceof StackError);
        assert.equal(error.code, 'not_ready');
        assert.ok(error.message.startsWith(`mcp-server was not ready at ${closedUrl} after `), error.message);
        assert.ok(error.message.endsWith('--- last log lines ---\nstill starting'), error.message);
        assert.match(error.fix, /STACK_READY_TIMEOUT_S/);
        return true;
      },
    );
    assert.ok(performance.now() - started >= 300, 'gave up before timeoutMs');
  });

  it('keeps waiting while the server answers non-2xx', async () => {
    await assert.rejects(
      waitForHttp({ url: healthz.replace('/healthz', '/not-yet'), service: 'stock-api', timeoutMs: 300 }),
      (error: unknown) => error instanceof StackError && error.code === 'not_ready',
    );
  });
});
