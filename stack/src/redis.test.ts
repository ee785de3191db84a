// The Redis probe: true only for a +PONG, false for a closed port, a wrong answer or silence.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { pingRedis } from './redis.ts';

/** Does anything accept TCP on 127.0.0.1:port? Decides whether the real-Redis test can run. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.setTimeout(500, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
  });
}

async function listen(onConnection: (socket: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(onConnection);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

describe('pingRedis', () => {
  it('returns true against the Redis on 127.0.0.1:6379', async (t) => {
    if (!(await accepts(6379))) {
      t.skip('nothing listens on 127.0.0.1:6379');
      return;
    }
    assert.equal(await pingRedis(6379), true);
  });

  it('returns false for a closed port', async () => {
    const { server, port } = await listen(() => {});
    server.close();
    await once(server, 'close');
    assert.equal(await pingRedis(port), false);
  });

  it('returns false when the server answers something other than +PONG', async () => {
    const { server, port } = await listen((socket) => {
      socket.once('data', () => socket.end('-NOAUTH Authentication required.\r\n'));
    });
    try {
      assert.equal(await pingRedis(port), false);
    } finally {
      server.close();
    }
  });

  it('returns false after timeoutMs when the server never answers', async () => {
    const sockets: Socket[] = [];
    const { server, port } = await listen((socket) => {
      sockets.push(socket);
    });
    try {
      assert.equal(await pingRedis(port, '127.0.0.1', 100), false);
    } finally {
      for (const socket of sockets) socket.destroy();
      server.close();
    }
  });
});
