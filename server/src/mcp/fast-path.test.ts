import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { Approver } from '../approval/ciba.ts';
import type { Principal } from '../auth/verify.ts';
import { DownstreamError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { createMetrics } from '../metrics.ts';
import {
  createTestApp,
  legacyRequest,
  RESOURCE,
  rpc,
  TRADER_SCOPE,
  userClaims,
  type TestApp,
  type ToolCallResult,
} from '../testing.ts';
import { fastToolCall } from './fast-path.ts';
import { createMcp } from './handler.ts';

// The fast path must answer exactly as the SDK does: two apps, one with the fast path and one without, get the same
// request bytes, and their answers must be byte-identical. Requests are generated (fast-check) per protocol version
// across id spellings, Content-Type and Accept headers, envelope shapes and argument shapes, valid and not; for each
// version the test also proves the fast path answered (its counter moved) for a share of them, so "identical"
// cannot come from the fast path never running.
const VERSIONS = ['2025-06-18', '2025-11-25', '2026-07-28'] as const;
const RUNS_PER_VERSION = 300;
/** The generator's seed (fast-check): fixed, so every run checks the same requests. */
const SEED = 20261204;

/** Arguments per tool: valid ones (the fast path answers) and invalid ones (the SDK owns the error). */
const TOOL_ARGS: Record<string, Array<Record<string, unknown> | undefined | unknown[] | string>> = {
  get_stock_info: [{ symbol: 'ACME' }, { symbol: 'acme' }, { symbol: 7 }, {}, undefined, []],
  search_stocks: [{ query: 'acme' }, { query: '' }, { query: 'x', extra: 1 }],
  get_portfolio: [{}, undefined, { extra: true }, 'string'],
  place_order: [
    { symbol: 'ACME', side: 'buy', quantity: 3 },
    { symbol: 'ACME', side: 'sell', quantity: 1, limit_price: 10 },
    { symbol: 'ACME', side: 'hold', quantity: -1 },
    { symbol: 'ACME', side: 'buy', quantity: 1.5 },
  ],
  whoami: [{}, undefined],
  greet: [{ name: 'Ada' }, {}, { name: 'Zoë 東京' }, { name: 42 }],
  get_datetime: [{}, { timezone: 'x' }],
  no_such_tool: [{}],
};

/** Mostly the usual value (so a fair share of requests is one the fast path takes), sometimes an odd one. */
const mostly = <T>(usual: fc.Arbitrary<T>, odd: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 4, arbitrary: usual }, { weight: 1, arbitrary: odd });
const idText = mostly(
  fc.oneof(
    fc.integer().map(String),
    fc.string({ maxLength: 12 }).map((text) => JSON.stringify(text)),
  ),
  fc.constantFrom('1.5', '1e400', '-0', '0', 'null', 'true', '""', '9007199254740993', '1E2', '[1]', '{"a":1}'),
);
const contentType = mostly(
  fc.constantFrom('application/json', 'application/json; charset=utf-8'),
  fc.constantFrom('Application/JSON', 'application/json-seq', 'application/json, application/json', 'text/plain'),
);
const accept = mostly(
  fc.constantFrom('application/json, text/event-stream', 'text/event-stream, application/json'),
  fc.constantFrom('application/json', 'text/event-stream', '*/*'),
);
const capabilities = mostly(
  fc.constantFrom<unknown>({}, { elicitation: {} }),
  fc.constantFrom<unknown>(5, null, [], 'x'),
);
const toolCall = fc.constantFrom(...Object.keys(TOOL_ARGS)).chain((name) => {
  const [valid, ...others] = TOOL_ARGS[name] ?? [{}];
  return fc.record({
    name: fc.constant(name),
    args: others.length ? mostly(fc.constant(valid), fc.constantFrom(...others)) : fc.constant(valid),
  });
});

interface Sample {
  id: string;
  contentType: string;
  accept: string;
  name: string;
  args: unknown;
  capabilities: unknown;
  nameHeader: 'same' | 'other' | 'absent';
  extraParam: boolean;
}
const sample: fc.Arbitrary<Sample> = fc
  .record({
    id: idText,
    contentType,
    accept,
    capabilities,
    nameHeader: mostly(
      fc.constant<'same' | 'other' | 'absent'>('same'),
      fc.constantFrom<'same' | 'other' | 'absent'>('other', 'absent'),
    ),
    extraParam: mostly(fc.constant(false), fc.constant(true)),
    call: toolCall,
  })
  .map(({ call, ...rest }) => ({ ...rest, name: call.name, args: call.args }));

function requestFor(version: (typeof VERSIONS)[number], s: Sample, token: string): Request {
  const modern = version === '2026-07-28';
  const params: Record<string, unknown> = {
    name: s.name,
    ...(s.args === undefined ? {} : { arguments: s.args }),
    ...(s.extraParam ? { task: { ttl: 1 } } : {}),
  };
  if (modern) {
    params._meta = {
      'io.modelcontextprotocol/protocolVersion': version,
      'io.modelcontextprotocol/clientInfo': { name: 'gen', version: '1.0.0' },
      'io.modelcontextprotocol/clientCapabilities': s.capabilities,
    };
  }
  // The id goes in as raw JSON text, so spellings JSON.stringify cannot produce (1e400, -0, 1E2) are sent as is.
  const body = `{"jsonrpc":"2.0","id":${s.id},"method":"tools/call","params":${JSON.stringify(params)}}`;
  const headers: Record<string, string> = {
    host: 'localhost:3000',
    authorization: `Bearer ${token}`,
    'content-type': s.contentType,
    accept: s.accept,
    'mcp-protocol-version': version,
  };
  if (modern) {
    headers['mcp-method'] = 'tools/call';
    if (s.nameHeader !== 'absent') headers['mcp-name'] = s.nameHeader === 'same' ? s.name : 'greet-other';
  }
  return new Request(RESOURCE, { method: 'POST', headers, body });
}

describe('fast path vs SDK path: byte-identical answers (generated requests)', () => {
  let fast: TestApp;
  let sdk: TestApp;
  let token: string;
  const tally = new Map<string, { generated: number; identical: number; fastPath: number }>();
  before(async () => {
    fast = await createTestApp({ fastPath: true });
    sdk = await createTestApp({ signer: fast.signer, fastPath: false });
    token = await fast.signer.sign(userClaims({ scope: TRADER_SCOPE }));
  });
  after(async () => {
    await fast.close();
    await sdk.close();
    for (const [version, counts] of tally)
      console.log(
        `fast-path equivalence ${version}: ${counts.generated} requests generated, ${counts.identical} byte-identical, fast path taken for ${counts.fastPath}`,
      );
  });

  /** Sends one request to both apps; returns whether the fast path answered it. */
  async function compare(version: (typeof VERSIONS)[number], s: Sample): Promise<boolean> {
    const before = fast.metrics.fastPathCalls;
    const a = await fast.app.request(requestFor(version, s, token));
    const took = fast.metrics.fastPathCalls > before;
    const b = await sdk.app.request(requestFor(version, s, token));
    assert.equal(sdk.metrics.fastPathCalls, 0);
    const [textA, textB] = [await a.text(), await b.text()];
    const label = `${version} ${JSON.stringify(s)}${took ? ' (fast path)' : ''}`;
    assert.equal(a.status, b.status, `${label}: status`);
    assert.equal(a.headers.get('content-type'), b.headers.get('content-type'), `${label}: content-type`);
    assert.equal(textA, textB, `${label}: body`);
    return took;
  }

  for (const version of VERSIONS) {
    it(`answers ${RUNS_PER_VERSION} generated tools/call requests byte for byte like the SDK, and takes the fast path for the plain ones (${version})`, async () => {
      const counts = { generated: 0, identical: 0, fastPath: 0 };
      tally.set(version, counts);
      await fc.assert(
        fc.asyncProperty(sample, async (s) => {
          counts.generated += 1;
          const took = await compare(version, s);
          counts.identical += 1;
          if (took) counts.fastPath += 1;
        }),
        // A fixed seed: the same 300 requests every run, so the fast-path share below is a fact, not a draw (a random
        // draw once gave 58 of 300, under the 60 asserted); change SEED to explore others.
        { numRuns: RUNS_PER_VERSION, seed: SEED },
      );
      // A plain call must take the fast path in every version (else the comparison proves nothing about it).
      const plain: Sample = {
        id: '41',
        contentType: 'application/json',
        accept: 'application/json, text/event-stream',
        name: 'place_order',
        args: { symbol: 'ACME', side: 'buy', quantity: 2 },
        capabilities: {},
        nameHeader: 'same',
        extraParam: false,
      };
      assert.equal(await compare(version, plain), true, 'a plain place_order did not take the fast path');
      assert.equal(await compare(version, { ...plain, id: '"req-é"' }), true, 'a string id did not take the fast path');
      assert.ok(
        counts.fastPath >= RUNS_PER_VERSION / 5,
        `the fast path answered only ${counts.fastPath} of ${counts.generated}`,
      );
    });
  }

  it('defers to the SDK for what the SDK refuses: non-integer ids, JSON sequences, duplicated Content-Type, a bad capabilities shape', async () => {
    const plain: Sample = {
      id: '1',
      contentType: 'application/json',
      accept: 'application/json, text/event-stream',
      name: 'whoami',
      args: {},
      capabilities: {},
      nameHeader: 'same',
      extraParam: false,
    };
    for (const [version, variant] of [
      ['2025-11-25', { id: '1.5' }],
      ['2025-11-25', { id: '1e400' }],
      ['2026-07-28', { id: '1.5' }],
      ['2025-11-25', { contentType: 'application/json-seq' }],
      ['2025-06-18', { contentType: 'application/json, application/json' }],
      ['2026-07-28', { capabilities: 5 }],
      ['2026-07-28', { nameHeader: 'other' }],
    ] as const) {
      const took = await compare(version, { ...plain, ...variant });
      assert.equal(took, false, `${version} ${JSON.stringify(variant)} took the fast path`);
    }
  });
});

describe('fastToolCall', () => {
  const legacyHeaders = new Headers({
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2025-11-25',
  });
  const call = (params: Record<string, unknown>, id: unknown = 1) => ({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params,
  });
  const envelope = {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientInfo': { name: 'c', version: '1' },
    'io.modelcontextprotocol/clientCapabilities': {},
  };
  const modernHeaders = (name: string, extra: Record<string, string> = {}) =>
    new Headers({
      'content-type': 'application/json',
      accept: 'application/json',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': name,
      ...extra,
    });

  it('recognises a 2025-11-25 tools/call for a known tool', () => {
    assert.equal(fastToolCall(legacyHeaders, call({ name: 'whoami', arguments: {} }))?.era, 'legacy');
  });
  it('recognises a 2026-07-28 tools/call with a complete envelope and matching headers', () => {
    assert.equal(
      fastToolCall(modernHeaders('whoami'), call({ name: 'whoami', arguments: {}, _meta: envelope }))?.era,
      'modern',
    );
  });
  it('leaves everything else to the SDK', () => {
    assert.equal(fastToolCall(legacyHeaders, [call({ name: 'whoami' })]), undefined, 'batch');
    assert.equal(
      fastToolCall(legacyHeaders, { jsonrpc: '2.0', method: 'tools/call', params: { name: 'whoami' } }),
      undefined,
      'notification',
    );
    assert.equal(fastToolCall(legacyHeaders, call({ name: 'nope' })), undefined, 'unknown tool');
    assert.equal(
      fastToolCall(legacyHeaders, { ...call({ name: 'whoami' }), method: 'tools/list' }),
      undefined,
      'other method',
    );
    assert.equal(
      fastToolCall(
        new Headers({ ...Object.fromEntries(legacyHeaders), 'mcp-protocol-version': '2024-11-05' }),
        call({ name: 'whoami' }),
      ),
      undefined,
      'old version',
    );
    assert.equal(
      fastToolCall(
        new Headers({ ...Object.fromEntries(legacyHeaders), accept: 'application/json' }),
        call({ name: 'whoami' }),
      ),
      undefined,
      'legacy without SSE accept',
    );
    assert.equal(
      fastToolCall(modernHeaders('greet'), call({ name: 'whoami', _meta: envelope })),
      undefined,
      'Mcp-Name mismatch',
    );
    assert.equal(fastToolCall(modernHeaders('whoami'), call({ name: 'whoami' })), undefined, 'modern without envelope');
    assert.equal(
      fastToolCall(
        modernHeaders('whoami'),
        call({ name: 'whoami', _meta: { ...envelope, 'io.modelcontextprotocol/protocolVersion': '2025-11-25' } }),
      ),
      undefined,
      'envelope version mismatch',
    );
    assert.equal(
      fastToolCall(legacyHeaders, call({ name: 'whoami', _meta: envelope })),
      undefined,
      'legacy header with modern envelope',
    );
    assert.equal(fastToolCall(legacyHeaders, call({ name: 'whoami', arguments: [] })), undefined, 'array arguments');
    assert.equal(fastToolCall(legacyHeaders, call({ name: 'whoami' }, null)), undefined, 'null id');
  });
});

describe('the fast path on a place_order above the approval threshold', () => {
  const principal = {
    sub: 'alice-sub',
    username: 'alice',
    clientId: 'mcp-cli',
    scopes: ['mcp:tools', 'trade:write'],
    jti: 'j',
    exp: 2_000_000_000,
    tokenHash: 'h',
    tokenSha256: 'hh',
    sessionId: 'session-1',
    machine: false,
    roles: ['trader'],
  } as Principal;
  const approvalRequired = new DownstreamError('approval_required', 'approval required', {
    status: 403,
    approval: { summary: 'Buy 40 ACME at 142.35 USD, total 5,694.00', total: 5694, thresholdUsd: 5000 },
  });
  const args = { symbol: 'ACME', side: 'buy', quantity: 40 };

  /** The fast path's MCP handler with a stock API that needs approval, and an approver the test controls. */
  function setup(approve: Approver['approve']) {
    const orders: string[] = [];
    const mcp = createMcp({
      stock: {
        call: async (call) => {
          if (call.subjectToken === 'user-token') throw approvalRequired;
          orders.push(call.subjectToken);
          return {
            data: { id: 'ord_1', status: 'filled', symbol: 'ACME', side: 'buy', quantity: 40, approvedBy: 'ciba' },
            exchange: { accessToken: 'x', cache: 'miss', exchangeMs: 1 },
          } as never;
        },
      },
      logger: createLogger('silent'),
      metrics: createMetrics(),
      approver: {
        start: () => Promise.reject(new Error('not used')),
        wait: () => Promise.reject(new Error('not used')),
        approve,
      },
    });
    return { mcp, orders };
  }
  const call = async (mcp: ReturnType<typeof createMcp>, signal?: AbortSignal) => {
    const request = new Request(legacyRequest('tools/call', { name: 'place_order', arguments: args }, { token: 'x' }), {
      ...(signal ? { signal } : {}),
    });
    const body = JSON.parse(await request.clone().text()) as unknown;
    const response = await mcp.tryFast(request, body, { principal, token: 'user-token', requestId: 'r1' });
    assert.ok(response, 'the fast path should take this call');
    return (await rpc<ToolCallResult>(response)).result;
  };

  it("waits for the user's approval and places the order with the approval's token", async () => {
    const { mcp, orders } = setup(async () => ({
      accessToken: 'ciba-token',
      tokenHash: 'c',
      tokenSha256: 'c',
      waitedMs: 3000,
    }));
    const result = await call(mcp);
    assert.equal(result?.isError, undefined, JSON.stringify(result));
    assert.match(result?.content[0]?.text ?? '', /approved on alice's device after 3 s/);
    assert.deepEqual(orders, ['ciba-token']);
  });

  it('hands the request signal to the wait: a client that goes away ends it, and no order is placed', async () => {
    const controller = new AbortController();
    let sawAbort = false;
    const { mcp, orders } = setup(async ({ signal }) => {
      controller.abort(); // the client disconnects while the user has not decided yet
      sawAbort = signal?.aborted === true;
      // A user who approves anyway: the approval comes back after the client has gone.
      return { accessToken: 'ciba-token', tokenHash: 'c', tokenSha256: 'c', waitedMs: 1 };
    });
    const result = await call(mcp, controller.signal);
    assert.ok(sawAbort, 'the approval wait never learned that the client went away');
    assert.equal(result?.isError, true);
    assert.equal((result?.structuredContent as { error?: string } | undefined)?.error, 'client_gone');
    assert.deepEqual(orders, [], 'an order was placed for a client that had gone');
  });
});
