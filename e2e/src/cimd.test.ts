// Client ID Metadata Documents (MCP 2026-07-28 authorization), offline: the client's client_id is the https URL of its
// metadata document on the sandbox's own document host (client-docs, local CA); Keycloak fetches and checks it at the
// authorization request, so no registration request is ever made. Refusals: each rule a document can break.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { DOCUMENTS, documentUrl } from '@sandbox/client-docs';
import { getFromClientDocs, TLS_DIR } from '@sandbox/stack';
import { BrowserOAuthProvider, launchBrowser } from './harness/browser.ts';
import { adminApi, decodeClaims } from './harness/keycloak.ts';
import { BUY_ONE_ACME } from './harness/mcp-clients.ts';
import { authorizeAndList, inContext, isUnauthorized } from './harness/oauth-session.ts';
import { stack } from './harness/stack.ts';

const CA = join(TLS_DIR, 'ca.crt');
const docUrl = (name: string) => documentUrl(stack().urls.clientDocs, name);

/** An authorization request as a CIMD client sends it (PKCE S256, resource), fetched without a browser. */
async function authorize(clientId: string, redirectUri = 'http://127.0.0.1:5555/callback'): Promise<Response> {
  const url = new URL(`${stack().urls.issuer}/protocol/openid-connect/auth`);
  for (const [key, value] of Object.entries({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: 'mcp:tools portfolio:read trade:read',
    resource: stack().urls.mcp,
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
    state: 'cimd-test',
  }))
    url.searchParams.set(key, value);
  return fetch(url, { redirect: 'manual' });
}

/** The message on Keycloak's error page (#kc-error-message), tags stripped. */
const errorMessage = (html: string) =>
  (/id="kc-error-message">([\s\S]*?)<\/div>/.exec(html)?.[1] ?? '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

describe('CIMD: client-docs, the sandbox document host', () => {
  it('Keycloak advertises CIMD and public clients (token_endpoint_auth_method none) in its metadata', async () => {
    const metadata = (await (await fetch(`${stack().urls.issuer}/.well-known/oauth-authorization-server`)).json()) as {
      client_id_metadata_document_supported?: boolean;
      token_endpoint_auth_methods_supported: string[];
    };
    assert.equal(metadata.client_id_metadata_document_supported, true);
    assert.ok(metadata.token_endpoint_auth_methods_supported.includes('none'));
  });

  it('serves each document over HTTPS, under a certificate only the sandbox CA vouches for', async () => {
    const { status, body } = await getFromClientDocs(stack().ports.clientDocs, '/clients/sdk-reference.json', CA);
    assert.equal(status, 200);
    assert.equal((JSON.parse(body) as { client_id: string }).client_id, docUrl('sdk-reference'));
    // Without the CA (Node's default trust store), the same request fails TLS verification.
    const untrusted = getFromClientDocs(stack().ports.clientDocs, '/healthz', '/dev/null');
    await assert.rejects(untrusted, /certificate|self.signed|unable to (get|verify)/i);
  });
});

describe('CIMD: Keycloak refuses documents that break the rules, and client IDs on untrusted hosts', () => {
  for (const [name, doc] of Object.entries(DOCUMENTS).filter(([, d]) => d.refusedWith)) {
    it(`refuses ${name} (${doc.purpose}) with "${doc.refusedWith}"`, async () => {
      const redirect = name === 'refused-foreign-redirect' ? 'https://attacker.example/callback' : undefined;
      const response = await authorize(docUrl(name), redirect);
      assert.equal(response.status, 400);
      assert.ok(errorMessage(await response.text()).includes(doc.refusedWith ?? ''));
      const created = (await (await adminApi(`/clients?clientId=${encodeURIComponent(docUrl(name))}`)).json()) as [];
      assert.equal(created.length, 0, 'Keycloak created a client from a refused document');
    });
  }

  it('treats an https client_id on a host the policy does not trust as an unknown client (no fetch, no client)', async () => {
    const response = await authorize('https://attacker.example/clients/sdk-reference.json');
    assert.equal(response.status, 400);
    assert.match(errorMessage(await response.text()), /Client not found/);
  });

  it('refuses a redirect URI the document does not list', async () => {
    const response = await authorize(docUrl('sdk-reference'), 'http://localhost:5555/elsewhere');
    assert.equal(response.status, 400);
    // The CIMD executor's words on the first fetch; the client's own check once Keycloak holds the document.
    assert.match(
      errorMessage(await response.text()),
      /redirect_uri parameter does not exactly match|Invalid parameter: redirect_uri/,
    );
  });
});

describe('CIMD: the SDK v2 client with clientMetadataUrl', () => {
  let browser: Browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  it('logs alice in with no registration request, calls tools, and steps up to trade:write for an order', async () => {
    await inContext(browser, 'cimd-sdk-v2', async (context, callback) => {
      const requests: string[] = [];
      const recording: typeof fetch = (input, init) => {
        requests.push(String(input instanceof Request ? input.url : input));
        return fetch(input, init);
      };
      const provider = new BrowserOAuthProvider({
        page: await context.newPage(),
        user: 'alice',
        callback,
        label: 'cimd-sdk-v2',
        clientMetadataUrl: docUrl('sdk-reference'),
      });
      const session = await authorizeAndList('v2 @ 2026-07-28', provider, recording);
      try {
        const portfolio = await session.callTool('get_portfolio');
        assert.ok(!portfolio.isError, JSON.stringify(portfolio));
        // The client ID is the document URL; Keycloak made a public, consent-required client from the document.
        const first = provider.authorizationUrls[0];
        assert.equal(first?.searchParams.get('client_id'), docUrl('sdk-reference'));
        assert.doesNotMatch(first?.searchParams.get('scope') ?? '', /trade:write/, 'the first challenge asks to read');
        const claims = decodeClaims(provider.accessToken ?? '');
        assert.equal(claims.azp, docUrl('sdk-reference'));
        assert.deepEqual([claims.aud].flat(), [stack().urls.mcp]);
        assert.ok(
          provider.screenshots.some((shot) => shot.endsWith('-consent.png')),
          'a CIMD client must ask for consent',
        );
        const [client] = (await (
          await adminApi(`/clients?clientId=${encodeURIComponent(docUrl('sdk-reference'))}`)
        ).json()) as Array<{ publicClient: boolean; consentRequired: boolean; optionalClientScopes: string[] }>;
        assert.equal(client?.publicClient, true);
        assert.equal(client?.consentRequired, true);
        assert.deepEqual([...(client?.optionalClientScopes ?? [])].sort(), [
          'mcp:tools',
          'offline_access',
          'portfolio:read',
          'trade:read',
          'trade:write',
        ]);

        // Step-up: the order's 403 names trade:write, which the document declared, so Keycloak can grant it.
        await assert.rejects(session.callTool('place_order', BUY_ONE_ACME), (error: unknown) => isUnauthorized(error));
        assert.equal(provider.authorizationUrls.length, 2, 'no second authorization for the step-up');
        assert.match(provider.authorizationUrls[1]?.searchParams.get('scope') ?? '', /trade:write/);
        await session.finishAuth(provider.lastCallback as URL);
        const order = await session.callTool('place_order', BUY_ONE_ACME);
        assert.ok(!order.isError, JSON.stringify(order));
      } finally {
        await session.close();
      }
      assert.ok(
        requests.some((url) => url.includes('/.well-known/oauth-authorization-server')),
        requests.join('\n'),
      );
      assert.deepEqual(
        requests.filter((url) => url.includes('/clients-registrations/')),
        [],
        'the client registered although the AS supports CIMD',
      );
    });
  });
});
