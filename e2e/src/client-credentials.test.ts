// Client credentials (MCP extension SEP-1046): the two pre-registered machine clients get tokens with no user and
// call the tools a machine may use, through the SDK's own providers (ClientCredentialsProvider: client_secret_basic;
// PrivateKeyJwtProvider: private_key_jwt with the key `make up` generated). The exchange for the stock API carries the
// bot's identity (its service account), not a user's. Workload identity: sandbox-workload authenticates with a JWT
// from the local workload issuer (Keycloak's federated client authentication). Refusals: a user's tool, a wrong
// secret, an assertion signed with another key, a registrant asking for client_credentials, and a workload JWT from
// another issuer, for another audience, or expired. docs/client-credentials.md.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  Client,
  ClientCredentialsProvider,
  PrivateKeyJwtProvider,
  StaticPrivateKeyJwtProvider,
  StreamableHTTPClientTransport,
  type OAuthClientProvider,
} from '@modelcontextprotocol/client';
import { ensureMachineCredentials, MACHINE_CLIENTS, mintWorkloadToken, WORKLOAD_ISSUER } from '@sandbox/stack';
import { importPKCS8, SignJWT } from 'jose';
import { recordToken } from './harness/forge.ts';
import { adminApi, decodeClaims } from './harness/keycloak.ts';
import { stack } from './harness/stack.ts';

type ToolResult = {
  isError?: boolean;
  content: Array<{ type: string; text?: string }>;
  structuredContent?: {
    error?: string;
    quote?: { symbol?: string };
    tools?: Array<{ name: string; allowed: boolean }>;
  };
};

interface Bot {
  client: Client;
  provider: OAuthClientProvider;
  token(): string;
}

async function connect(provider: OAuthClientProvider): Promise<Bot> {
  const client = new Client({ name: 'e2e-machine-client', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(stack().urls.mcp), { authProvider: provider }));
  return {
    client,
    provider,
    token: () => {
      const tokens = provider.tokens() as { access_token: string } | undefined;
      assert.ok(tokens?.access_token, 'the provider holds an access token');
      return recordToken(tokens.access_token);
    },
  };
}

/**
 * A machine client asks for the scopes it is registered for (its default client scopes, by sending none), not the
 * 401 challenge's: the challenge names what a user's first sign-in needs (portfolio:read too), which the SDK's
 * providers would otherwise request, and Keycloak refuses a scope the client does not have (invalid_scope).
 */
function registeredScopes<P extends OAuthClientProvider>(provider: P): P {
  const prepare = provider.prepareTokenRequest?.bind(provider);
  assert.ok(prepare, 'a client_credentials provider prepares its own token request');
  provider.prepareTokenRequest = () => prepare(undefined);
  return provider;
}

const call = async (bot: Bot, name: string, args: Record<string, unknown> = {}) =>
  (await bot.client.callTool({ name, arguments: args })) as ToolResult;

/** The stock API's record of the tokens it received (never the tokens themselves). */
async function received(): Promise<
  Array<{ route: string; accepted: boolean; sub: string | null; azp: string | null }>
> {
  const body = (await (await fetch(`${stack().urls.stockApi}/_sandbox/received`)).json()) as {
    decisions: Array<{ route: string; accepted: boolean; sub: string | null; azp: string | null }>;
  };
  return body.decisions;
}

async function serviceAccountId(clientId: string): Promise<string> {
  const [client] = (await (await adminApi(`/clients?clientId=${clientId}`)).json()) as Array<{ id: string }>;
  assert.ok(client, `the realm has no client ${clientId}`);
  return ((await (await adminApi(`/clients/${client.id}/service-account-user`)).json()) as { id: string }).id;
}

const tokenEndpoint = () => `${stack().urls.issuer}/protocol/openid-connect/token`;

describe('client credentials (SEP-1046): pre-registered machine clients, no user', () => {
  it("sandbox-bot (client secret, the SDK's ClientCredentialsProvider) reads a quote; the stock API sees the bot's service account", async () => {
    const credentials = ensureMachineCredentials();
    const bot = await connect(
      registeredScopes(
        new ClientCredentialsProvider({
          clientId: MACHINE_CLIENTS.secret,
          clientSecret: credentials.secret,
          expectedIssuer: stack().urls.issuer,
        }),
      ),
    );
    try {
      const quote = await call(bot, 'get_stock_info', { symbol: 'ACME' });
      assert.ok(!quote.isError, JSON.stringify(quote.content));
      assert.equal(quote.structuredContent?.quote?.symbol, 'ACME');
      const claims = decodeClaims(bot.token());
      assert.equal(claims.azp, MACHINE_CLIENTS.secret);
      assert.equal(claims.sid, undefined, 'a client_credentials token has no user session');
      assert.equal(claims.preferred_username, `service-account-${MACHINE_CLIENTS.secret}`);
      assert.ok(([] as string[]).concat(claims.aud as string[]).includes(stack().urls.mcp));
      assert.deepEqual(String(claims.scope).split(' ').sort(), ['mcp:tools', 'trade:read']);
      // The exchanged token the stock API accepted names the bot's service account (azp: the MCP server exchanged it).
      const service = await serviceAccountId(MACHINE_CLIENTS.secret);
      const seen = (await received()).filter((d) => d.accepted && d.route.includes('ACME') && d.sub === service);
      assert.ok(seen.length > 0, "the stock API never saw the bot's service account");
      assert.equal(seen.at(-1)?.azp, stack().urls.mcp);
    } finally {
      await bot.client.close();
    }
  });

  it("refuses a user's tools to a machine with a final tool error (no challenge, nothing reaches the stock API)", async () => {
    const bot = await connect(
      registeredScopes(
        new ClientCredentialsProvider({
          clientId: MACHINE_CLIENTS.secret,
          clientSecret: ensureMachineCredentials().secret,
          expectedIssuer: stack().urls.issuer,
        }),
      ),
    );
    try {
      const service = await serviceAccountId(MACHINE_CLIENTS.secret);
      const before = (await received()).length;
      for (const [name, args] of [
        ['get_portfolio', {}],
        ['place_order', { symbol: 'ACME', side: 'buy', quantity: 1 }],
      ] as const) {
        const refused = await call(bot, name, args);
        assert.equal(refused.isError, true, name);
        assert.equal(refused.structuredContent?.error, 'user_required', name);
        assert.match(refused.content[0]?.text ?? '', /acts for a signed-in user.*sandbox-bot/);
      }
      const after = await received();
      assert.equal(
        after.slice(before).filter((d) => d.sub === service && !d.route.includes('/stocks')).length,
        0,
        'a refused call reached the stock API',
      );
      const whoami = await call(bot, 'whoami');
      const tools = whoami.structuredContent?.tools ?? [];
      assert.deepEqual(
        tools.filter((t) => t.allowed).map((t) => t.name),
        ['get_stock_info', 'search_stocks', 'whoami', 'greet', 'get_datetime'],
      );
    } finally {
      await bot.client.close();
    }
  });

  it("sandbox-bot-jwt (private_key_jwt, the SDK's PrivateKeyJwtProvider with the key make up generated) reads a quote", async () => {
    const credentials = ensureMachineCredentials();
    const bot = await connect(
      registeredScopes(
        new PrivateKeyJwtProvider({
          clientId: MACHINE_CLIENTS.jwt,
          privateKey: credentials.privateKeyPem,
          algorithm: 'RS256',
          expectedIssuer: stack().urls.issuer,
        }),
      ),
    );
    try {
      const quote = await call(bot, 'search_stocks', { query: 'A' });
      assert.ok(!quote.isError, JSON.stringify(quote.content));
      const claims = decodeClaims(bot.token());
      assert.equal(claims.azp, MACHINE_CLIENTS.jwt);
      assert.equal(claims.sid, undefined);
    } finally {
      await bot.client.close();
    }
  });

  it('refuses a wrong secret, an assertion signed with another key, and client_credentials for a registered client', async () => {
    const wrongSecret = await fetch(tokenEndpoint(), {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${MACHINE_CLIENTS.secret}:not-the-secret`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });
    assert.equal(wrongSecret.status, 401);
    assert.equal(((await wrongSecret.json()) as { error: string }).error, 'unauthorized_client');

    // The SDK's provider, the right client id, a key Keycloak does not know.
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    await assert.rejects(
      connect(
        registeredScopes(
          new PrivateKeyJwtProvider({
            clientId: MACHINE_CLIENTS.jwt,
            privateKey: stranger.toString(),
            algorithm: 'RS256',
            expectedIssuer: stack().urls.issuer,
          }),
        ),
      ),
      /invalid_client|unauthorized_client|Invalid client|signature/i,
    );

    // A registrant (anonymous DCR) asks for client_credentials: registered, then refused at the token endpoint by the
    // realm's no-service-account-tokens policy (it lacks the machine-client role only an administrator can give).
    const registered = await fetch(`${stack().urls.issuer}/clients-registrations/openid-connect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'e2e would-be bot',
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'mcp:tools trade:read',
        redirect_uris: ['http://127.0.0.1:49201/callback'],
      }),
    });
    assert.equal(registered.status, 201, await registered.clone().text());
    const client = (await registered.json()) as { client_id: string; client_secret: string };
    const refused = await fetch(tokenEndpoint(), {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'mcp:tools trade:read' }),
    });
    assert.equal(refused.status, 400);
    assert.deepEqual(await refused.json(), { error: 'invalid_request', error_description: 'Request not allowed' });
  });

  it('sandbox-workload proves itself with a JWT from the local workload issuer (federated client auth) and reads a quote', async () => {
    const issuer = stack().urls.issuer;
    const bot = await connect(
      registeredScopes(
        new StaticPrivateKeyJwtProvider({
          clientId: MACHINE_CLIENTS.workload,
          jwtBearerAssertion: await mintWorkloadToken(issuer),
          expectedIssuer: issuer,
        }),
      ),
    );
    try {
      const quote = await call(bot, 'get_stock_info', { symbol: 'ACME' });
      assert.ok(!quote.isError, JSON.stringify(quote.content));
      const claims = decodeClaims(bot.token());
      assert.equal(claims.azp, MACHINE_CLIENTS.workload);
      assert.equal(claims.sid, undefined);
      assert.equal((await call(bot, 'get_portfolio')).structuredContent?.error, 'user_required');
    } finally {
      await bot.client.close();
    }
  });

  it('refuses a workload JWT from another issuer, signed with another key, for another audience, or expired', async () => {
    const issuer = stack().urls.issuer;
    const attempt = async (assertion: string) => {
      const response = await fetch(tokenEndpoint(), {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: MACHINE_CLIENTS.workload,
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: assertion,
        }),
      });
      return { status: response.status, body: (await response.json()) as { error?: string; access_token?: string } };
    };
    // The genuine one works (so each refusal below is about the one thing changed).
    const genuine = await attempt(await mintWorkloadToken(issuer));
    assert.equal(genuine.status, 200, JSON.stringify(genuine.body));
    recordToken(genuine.body.access_token);
    const stranger = await importPKCS8(
      generateKeyPairSync('rsa', { modulusLength: 2048 })
        .privateKey.export({ type: 'pkcs8', format: 'pem' })
        .toString(),
      'RS256',
    );
    const forged = (iss: string) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'RS256', kid: ensureMachineCredentials().workload.kid })
        .setIssuer(iss)
        .setSubject(WORKLOAD_ISSUER.subject)
        .setAudience(issuer)
        .setIssuedAt()
        .setExpirationTime('2m')
        .setJti(crypto.randomUUID())
        .sign(stranger);
    const cases: Array<[string, string]> = [
      ['another issuer', await forged('https://other-issuer.example')],
      ['the right issuer, another key', await forged(WORKLOAD_ISSUER.issuer)],
      ['the token endpoint as audience', await mintWorkloadToken(tokenEndpoint())],
      ['expired', await mintWorkloadToken(issuer, { issuedAt: Math.floor(Date.now() / 1000) - 600, lifetimeS: 60 })],
      ['another workload', await mintWorkloadToken(issuer, { subject: 'system:serviceaccount:ci:intruder' })],
    ];
    for (const [what, assertion] of cases) {
      const refused = await attempt(assertion);
      // Keycloak answers invalid_client with 401, or 400 where it reads the audience before authenticating.
      assert.ok([400, 401].includes(refused.status), `${what}: ${refused.status} ${JSON.stringify(refused.body)}`);
      assert.equal(refused.body.error, 'invalid_client', what);
      assert.equal(refused.body.access_token, undefined, what);
    }
  });
});
