// A taken port gets one StackError naming the port, the service and how to find the holder; a free one passes.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { StackError } from './errors.ts';
import { assertPortsFree, isPortFree } from './ports.ts';

/** Holds a loopback port for the suite: the "something else is already running there" case. */
async function holdPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

/** A port that was free a moment ago (the kernel does not hand it out again straight away). */
async function freePort(): Promise<number> {
  const { server, port } = await holdPort();
  server.close();
  await once(server, 'close');
  return port;
}

let held: { server: Server; port: number };
before(async () => {
  held = await holdPort();
});
after(() => {
  held.server.close();
});

describe('isPortFree', () => {
  it('returns false for a port another listener holds', async () => {
    assert.equal(await isPortFree(held.port), false);
  });

  it('returns true for a port nobody listens on', async () => {
    assert.equal(await isPortFree(await freePort()), true);
  });
});

describe('assertPortsFree', () => {
  it('throws port_taken naming the port and the service, with a fix', async () => {
    const free = await freePort();
    await assert.rejects(
      assertPortsFree({ keycloak: free, 'stock API': held.port }, 'stop the other run'),
      (error: unknown) => {
        assert.ok(error instanceof StackError);
        assert.equal(error.code, 'port_taken');
        assert.equal(error.message, `Port ${held.port} (stock API) is already in use on 127.0.0.1`);
        assert.match(error.fix, /^stop the other run, /);
        assert.ok(error.fix.includes(`ss -ltnp 'sport = :${held.port}'`), error.fix);
        return true;
      },
    );
  });

  it('resolves when every port is free', async () => {
    await assertPortsFree({ keycloak: await freePort(), 'MCP server': await freePort() }, 'stop the other run');
  });

  it('resolves for an empty set of ports', async () => {
    await assertPortsFree({}, 'unused');
  });
});
