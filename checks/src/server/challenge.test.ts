import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeResponse, readChallenge, refusalVerdict, scopeList } from './challenge.ts';
import { metadataUrl } from './probe.ts';

const PRM = 'http://localhost:3000/.well-known/oauth-protected-resource/mcp';
const withChallenge = (value: string) => new Response(null, { status: 401, headers: { 'www-authenticate': value } });

describe('readChallenge', () => {
  it('reads resource_metadata, scope and error from a Bearer challenge', () => {
    const challenge = readChallenge(
      withChallenge(
        `Bearer error="invalid_token", error_description="expired", resource_metadata="${PRM}", scope="mcp:tools trade:read"`,
      ),
    );
    assert.equal(challenge?.scheme, 'bearer');
    assert.equal(challenge?.resourceMetadata, PRM);
    assert.equal(challenge?.scope, 'mcp:tools trade:read');
    assert.equal(challenge?.error, 'invalid_token');
    assert.equal(challenge?.errorDescription, 'expired');
  });

  it('returns undefined for a response without WWW-Authenticate', () => {
    assert.equal(readChallenge(new Response(null, { status: 401 })), undefined);
  });

  it('reports another scheme as it is, with no Bearer parameters', () => {
    const challenge = readChallenge(withChallenge('Basic realm="x"'));
    assert.equal(challenge?.scheme, 'basic');
    assert.equal(challenge?.resourceMetadata, undefined);
  });

  it('keeps a resource_metadata value that is not a URL, so the report can show it', () => {
    assert.equal(readChallenge(withChallenge('Bearer resource_metadata="/relative"'))?.resourceMetadata, '/relative');
  });

  it('shortens a very long header for the report', () => {
    const challenge = readChallenge(withChallenge(`Bearer scope="${'a'.repeat(1000)}"`));
    assert.ok((challenge?.header.length ?? 0) <= 301);
  });
});

describe('refusalVerdict', () => {
  const invalid = readChallenge(withChallenge(`Bearer error="invalid_token", resource_metadata="${PRM}"`));

  it('passes a 401 with error="invalid_token"', () => {
    assert.equal(refusalVerdict(401, invalid).status, 'pass');
  });

  it('passes a 401 without any challenge (the challenge checks report that, once)', () => {
    assert.equal(refusalVerdict(401, undefined).status, 'pass');
  });

  it('fails an accepted token, saying the server accepted it', () => {
    const verdict = refusalVerdict(200, undefined, '{"result":{}}');
    assert.equal(verdict.status, 'fail');
    assert.match(verdict.observed, /^the server accepted the token: HTTP 200/);
  });

  it('fails a 403 or 400 for a bad token (RFC 6750: 401 invalid_token)', () => {
    assert.match(refusalVerdict(403, undefined).observed, /expected 401, got 403/);
    assert.equal(refusalVerdict(400, undefined).status, 'fail');
  });

  it('fails a 401 whose challenge names another error code', () => {
    const verdict = refusalVerdict(401, readChallenge(withChallenge('Bearer error="insufficient_scope"')));
    assert.equal(verdict.status, 'fail');
    assert.match(verdict.observed, /error="insufficient_scope" instead of invalid_token/);
  });
});

describe('describeResponse', () => {
  it('names the status, the challenge and a short body excerpt', () => {
    const text = describeResponse(200, undefined, `{"a":"${'x'.repeat(500)}"}`);
    assert.match(text, /^HTTP 200, no WWW-Authenticate header; body: \{"a":"x+$/);
    assert.ok(text.length < 250);
  });
});

describe('scopeList', () => {
  it('splits on any whitespace and drops duplicates', () => {
    assert.deepEqual(scopeList(' mcp:tools  trade:read mcp:tools\n'), ['mcp:tools', 'trade:read']);
    assert.deepEqual(scopeList(undefined), []);
  });
});

describe('metadataUrl', () => {
  it('inserts the well-known segment before the path (RFC 9728 §3.1)', () => {
    assert.equal(metadataUrl('http://localhost:3000/mcp'), PRM);
    assert.equal(
      metadataUrl('https://api.example/v1/mcp/'),
      'https://api.example/.well-known/oauth-protected-resource/v1/mcp',
    );
    assert.equal(metadataUrl('https://api.example/'), 'https://api.example/.well-known/oauth-protected-resource');
  });
});
