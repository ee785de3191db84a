// Security suite, faults: Keycloak frozen, Redis stopped, the stock API frozen or slow, and malformed requests. The
// server must stay up, answer clearly within bounded time and recover without a restart. Faults are real: the
// native stack's process groups are sent SIGSTOP/SIGCONT and its own redis-server is stopped and started again; the
// compose stack's containers are paused (cgroup freezer), stopped and started (harness/processes.ts).
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { trackedUserToken } from './harness/forge.ts';
import { metrics } from './harness/mcp-clients.ts';
import {
  canControl,
  canSignal,
  pause,
  pidOf,
  pingRedis,
  redisDbSize,
  redisDump,
  resume,
  startContainer,
  startRedis,
  stopContainer,
  stopRedis,
  until,
} from './harness/processes.ts';
import { skippable } from './harness/skippable.ts';
import { ALL_SCOPES, assertNothingLeaked, callMcp, received, toolText } from './harness/refusals.ts';
import { stack } from './harness/stack.ts';

const call = (name: string, args: Record<string, unknown> = {}, id = 1) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args },
});
/** HTTP_TIMEOUT_MS (5000 in the e2e stack) plus margin: the bound on any answer while a dependency hangs. */
const BOUND_MS = 15_000;
const CONTROL = canControl()
  ? false
  : 'needs a stack whose services this process can freeze and stop (native or compose provider)';
const OWN_REDIS =
  CONTROL || (canSignal() && pidOf('redis') === undefined && 'the native stack reused a Redis it did not start');
const COMPOSE_ONLY =
  stack().provider === 'compose'
    ? false
    : 'compose provider only: stopping and restarting a container (the native provider has no restart for Keycloak)';

async function readyz(): Promise<{
  status: number;
  body: {
    status: string;
    checks: { keycloak: { ok: boolean; detail: string }; cache: { ok: boolean; detail: string } };
  };
}> {
  const response = await fetch(`${stack().urls.mcpOrigin}/readyz`);
  return { status: response.status, body: (await response.json()) as never };
}

async function healthy(): Promise<void> {
  const response = await fetch(`${stack().urls.mcpOrigin}/healthz`);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { status: 'ok' });
}

function assertOk(reply: Awaited<ReturnType<typeof callMcp>>, label: string): void {
  assert.equal(reply.status, 200, `${label}: ${reply.text.slice(0, 300)}`);
  assert.ok(!reply.body.error && !reply.body.result?.isError, `${label}: ${reply.text.slice(0, 300)}`);
}

describe('faults: Keycloak frozen (SIGSTOP or docker pause) mid-run', () => {
  const { it } = skippable(CONTROL);
  it('keeps cached calls working, answers fresh exchanges with a clear tool error in bounded time, and recovers', async () => {
    const token = await trackedUserToken('alice', ALL_SCOPES);
    assertOk(await callMcp(token, call('get_stock_info', { symbol: 'ACME' })), 'warm-up');
    pause('keycloak');
    try {
      const cached = await callMcp(token, call('get_stock_info', { symbol: 'ACME' }));
      assertOk(cached, 'cached exchange while Keycloak is frozen');
      assert.ok(cached.ms < 3000, `cached call took ${cached.ms} ms`);

      const started = performance.now();
      const ready = await readyz();
      assert.ok(performance.now() - started < BOUND_MS);
      assert.equal(ready.status, 503);
      assert.equal(ready.body.status, 'unavailable');
      assert.equal(ready.body.checks.keycloak.ok, false);
      assert.match(ready.body.checks.keycloak.detail, /Keycloak/);

      const fresh = await callMcp(token, call('get_portfolio'));
      assert.ok(fresh.ms < BOUND_MS, `the tool error took ${Math.round(fresh.ms)} ms`);
      assert.equal(fresh.status, 200);
      assert.equal(fresh.body.result?.isError, true, fresh.text);
      assert.equal(fresh.body.result?.structuredContent?.error, 'keycloak_unreachable');
      assert.match(toolText(fresh), /Keycloak could not be reached/);
      assert.match(toolText(fresh), /readyz/);
      assertNothingLeaked(fresh.text, [token]);
      await healthy();
    } finally {
      resume('keycloak');
    }
    const recovered = await until(
      async () => {
        const reply = await callMcp(token, call('get_portfolio'));
        return reply.status === 200 && !reply.body.result?.isError;
      },
      60_000,
      1000,
    );
    assert.ok(recovered, 'calls did not work again within 60 s of SIGCONT');
    assert.equal((await readyz()).status, 200);
  });
});

describe('faults: Keycloak stopped, then started again (compose: docker stop / docker start)', () => {
  const { it, after } = skippable(COMPOSE_ONLY);
  after(async () => {
    if ((await readyz()).body.checks.keycloak.ok !== true) await startContainer('keycloak');
  });

  it('refuses fresh exchanges with a clear tool error while Keycloak is down, keeps cached calls, and recovers after the restart', async () => {
    const token = await trackedUserToken('alice', ALL_SCOPES);
    assertOk(await callMcp(token, call('get_stock_info', { symbol: 'ACME' })), 'warm-up');
    stopContainer('keycloak');
    try {
      assertOk(
        await callMcp(token, call('get_stock_info', { symbol: 'ACME' })),
        'cached exchange while Keycloak is stopped',
      );
      const ready = await readyz();
      assert.equal(ready.status, 503);
      assert.equal(ready.body.checks.keycloak.ok, false);
      const fresh = await callMcp(token, call('get_portfolio'));
      // Stopped (connection refused), unlike frozen, fails fast: no timeout to wait for.
      assert.ok(fresh.ms < BOUND_MS, `the tool error took ${Math.round(fresh.ms)} ms`);
      assert.equal(fresh.body.result?.isError, true, fresh.text);
      assert.equal(fresh.body.result?.structuredContent?.error, 'keycloak_unreachable');
      assert.match(toolText(fresh), /Keycloak could not be reached/);
      assertNothingLeaked(fresh.text, [token]);
      await healthy();
    } finally {
      await startContainer('keycloak');
    }
    // Same container, same realm database: the token issued before the restart is still valid and exchanges again.
    const recovered = await until(
      async () => {
        const reply = await callMcp(token, call('get_portfolio'));
        return reply.status === 200 && !reply.body.result?.isError;
      },
      60_000,
      1000,
    );
    assert.ok(recovered, 'calls did not work again within 60 s of Keycloak answering its healthcheck');
    assert.equal((await readyz()).status, 200);
  });
});

describe('faults: Redis stopped', () => {
  const { it, after } = skippable(OWN_REDIS);
  after(async () => {
    // Whatever happened, leave the stack with its Redis; startRedis recorded the new pid in state.json, so the
    // stack's stop() (end of the run) stops the redis-server this file started.
    if (!(await pingRedis())) await startRedis();
  });

  it('keeps calls working while Redis is down (readyz degraded), and writes to Redis again once it is back', async () => {
    // Distinct subject tokens, so the server's in-process cache (in front of Redis) cannot answer: each call needs
    // its own exchange, and after Redis returns the exchanged token must land in Redis again.
    const tokens = await Promise.all(Array.from({ length: 5 }, () => trackedUserToken('alice', ALL_SCOPES)));
    await stopRedis();
    try {
      assert.ok(
        await until(async () => (await readyz()).body.status === 'degraded', 10_000),
        'readyz never said degraded',
      );
      const ready = await readyz();
      assert.equal(ready.status, 200);
      assert.equal(ready.body.checks.cache.ok, false);
      assert.match(ready.body.checks.cache.detail, /without cache/);
      const m0 = await metrics();
      for (const [i, token] of tokens.slice(0, 3).entries()) {
        const reply = await callMcp(token, call('get_stock_info', { symbol: 'HOOLI' }));
        assertOk(reply, `call ${i} without Redis`);
        assert.ok(reply.ms < 3000, `a call without Redis took ${Math.round(reply.ms)} ms`);
      }
      const m1 = await metrics();
      assert.equal((m1.exchanges ?? 0) - (m0.exchanges ?? 0), 3, 'each new subject token is exchanged at Keycloak');
    } finally {
      if (!(await pingRedis())) await startRedis();
    }
    assert.ok(
      await until(async () => (await readyz()).body.status === 'ready', 15_000),
      'the server did not reconnect to Redis within 15 s',
    );
    const keys0 = await redisDbSize();
    const m2 = await metrics();
    for (let i = 0; i < 3; i++)
      assertOk(
        await callMcp(tokens[3] as string, call('get_stock_info', { symbol: 'HOOLI' })),
        `call ${i} with Redis back`,
      );
    const m3 = await metrics();
    assert.equal((m3.exchanges ?? 0) - (m2.exchanges ?? 0), 1, 'one exchange, then cache hits');
    assert.equal((m3.cacheHits ?? 0) - (m2.cacheHits ?? 0), 2);
    assert.ok(
      await until(async () => (await redisDbSize()) > keys0, 2000),
      'the exchanged token was not cached in Redis',
    );
    // A cache entry in Redis holds no token.
    assertNothingLeaked(await redisDump(), [tokens[3] as string], 'Redis');
  });
});

describe('faults: stock API frozen or slow', () => {
  const { it } = skippable(CONTROL);
  it('answers a call to a frozen stock API with a tool error naming it, in bounded time, with exactly one attempt', async () => {
    const token = await trackedUserToken('alice', ALL_SCOPES);
    assertOk(await callMcp(token, call('get_stock_info', { symbol: 'ACME' })), 'warm-up');
    const m0 = await metrics();
    const since = Date.now();
    let reply: Awaited<ReturnType<typeof callMcp>>;
    pause('stock-api');
    try {
      reply = await callMcp(token, call('get_stock_info', { symbol: 'WONKA' }));
    } finally {
      resume('stock-api');
    }
    assert.ok(reply.ms < BOUND_MS, `took ${Math.round(reply.ms)} ms`);
    assert.equal(reply.status, 200);
    assert.equal(reply.body.result?.isError, true, reply.text);
    assert.equal(reply.body.result?.structuredContent?.error, 'stock_api_timeout');
    assert.match(toolText(reply), /stock API did not answer within \d+ ms/);
    assertNothingLeaked(reply.text, [token]);
    await sleep(1500);
    const m1 = await metrics();
    assert.equal((m1.downstreamCalls ?? 0) - (m0.downstreamCalls ?? 0), 1, 'the server retried the stock API');
    const attempts = (await received(since)).filter((d) => d.route === 'GET /stocks/WONKA');
    assert.ok(attempts.length <= 1, `the stock API saw ${attempts.length} attempts for one call`);
    assertOk(await callMcp(token, call('get_stock_info', { symbol: 'ACME' })), 'after SIGCONT');
  });

  it('waits for a slow stock API (frozen 2 s) and returns its answer, with exactly one attempt', async () => {
    const token = await trackedUserToken('alice', ALL_SCOPES);
    assertOk(await callMcp(token, call('get_stock_info', { symbol: 'ACME' })), 'warm-up');
    const since = Date.now();
    pause('stock-api');
    let pending: ReturnType<typeof callMcp> | undefined;
    try {
      pending = callMcp(token, call('get_stock_info', { symbol: 'UMBRL' }));
      await sleep(2000);
    } finally {
      resume('stock-api');
    }
    const reply = await pending;
    assertOk(reply, 'slow call');
    assert.ok(reply.ms >= 1900 && reply.ms < BOUND_MS, `took ${Math.round(reply.ms)} ms`);
    assert.match(toolText(reply), /^UMBRL/);
    const attempts = (await received(since)).filter((d) => d.route === 'GET /stocks/UMBRL');
    assert.equal(attempts.length, 1);
  });
});

describe('faults: malformed requests', () => {
  let token: string;
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(stack().urls.mcp, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-11-25',
        authorization: `Bearer ${token}`,
        ...headers,
      },
      body,
    });
  async function expectJsonRpcError(response: Response, status: number, code: number, label: string): Promise<void> {
    const text = await response.text();
    assert.equal(response.status, status, `${label}: ${text}`);
    assert.equal((JSON.parse(text) as { error: { code: number } }).error.code, code, `${label}: ${text}`);
    assertNothingLeaked(text, [token], label);
  }

  it('answers malformed JSON with 400 and JSON-RPC -32700', async () => {
    token = await trackedUserToken('alice', ALL_SCOPES);
    await expectJsonRpcError(await post('{"jsonrpc":"2.0",'), 400, -32700, 'truncated JSON');
    await expectJsonRpcError(await post('not json at all'), 400, -32700, 'text');
    await healthy();
  });

  it('answers bodies that are JSON but not JSON-RPC with 400 and -32600', async () => {
    for (const body of [
      '[]',
      'null',
      '{"jsonrpc":"2.0"}',
      '{"jsonrpc":"1.0","id":1,"method":"tools/list"}',
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":"x"}',
    ]) {
      await expectJsonRpcError(await post(body), 400, -32600, body);
    }
    await healthy();
  });

  it('answers a wrong content type with 415 and a missing Accept with 406', async () => {
    const message = JSON.stringify(call('whoami'));
    const wrongType = await post(message, { 'content-type': 'text/plain' });
    assert.equal(wrongType.status, 415);
    assertNothingLeaked(await wrongType.text(), [token]);
    const wrongAccept = await post(message, { accept: 'text/html' });
    assert.equal(wrongAccept.status, 406);
    assertNothingLeaked(await wrongAccept.text(), [token]);
    await healthy();
  });

  it('answers a body over MAX_BODY_BYTES (1 MB) with 413, and the connection stays usable', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { pad: 'x'.repeat(1_100_000) } });
    await expectJsonRpcError(await post(big), 413, -32600, 'oversize body');
    // The next requests (fetch reuses keep-alive connections) must not be cut off by the rejected body.
    for (let i = 0; i < 5; i++) {
      const reply = await callMcp(token, call('whoami'));
      assert.equal(reply.status, 200);
    }
    await healthy();
  });

  it('answers a chunked body over MAX_BODY_BYTES with 413, not a dropped connection', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0)
          controller.enqueue(
            new TextEncoder().encode('{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"pad":"'),
          );
        if (sent > 3_000_000) {
          controller.close();
          return;
        }
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    let status: number | string;
    let text = '';
    let response: Response | undefined;
    try {
      response = await fetch(stack().urls.mcp, {
        method: 'POST',
        body,
        duplex: 'half',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2025-11-25',
          authorization: `Bearer ${token}`,
        },
      } as RequestInit);
      status = response.status;
      text = await response.text();
    } catch (error) {
      status = `connection error: ${String((error as Error).cause ?? error)}`;
    }
    assert.equal(status, 413, 'a chunked oversize body must get a 413, not a dropped connection');
    assert.equal((JSON.parse(text) as { error: { code: number } }).error.code, -32600);
    assert.equal(response?.headers.get('connection'), 'close');
    await healthy();
    assert.equal((await callMcp(token, call('whoami'))).status, 200);
  });

  it('answers an unknown method with -32601 and an unknown tool with -32602', async () => {
    await expectJsonRpcError(
      await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'admin/shutdown' })),
      200,
      -32601,
      'unknown method',
    );
    await expectJsonRpcError(await post(JSON.stringify(call('no_such_tool'))), 200, -32602, 'unknown tool');
    await healthy();
  });

  it('answers invalid tool arguments with an input-validation tool error and no downstream call', async () => {
    const since = Date.now();
    for (const args of [{ symbol: 42 }, { symbol: 'A'.repeat(13) }, {}, { symbol: ['ACME'] }]) {
      const reply = await callMcp(token, call('get_stock_info', args));
      assert.equal(reply.status, 200);
      assert.equal(reply.body.result?.isError, true, reply.text);
      assert.match(toolText(reply), /Input validation error/);
      assertNothingLeaked(reply.text, [token]);
    }
    const order = await callMcp(token, call('place_order', { symbol: 'ACME', side: 'steal', quantity: -5 }));
    assert.equal(order.body.result?.isError, true);
    assert.equal((await received(since)).length, 0, 'invalid arguments reached the stock API');
    await healthy();
  });
});
