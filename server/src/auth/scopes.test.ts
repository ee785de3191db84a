import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_CHALLENGE_SCOPES,
  missingScopes,
  SCOPES_SUPPORTED,
  stepUpScopes,
  unobtainableScopes,
} from './scopes.ts';

describe('SCOPES_SUPPORTED', () => {
  it('lists the MCP scopes and never offline_access', () => {
    assert.deepEqual([...SCOPES_SUPPORTED], ['mcp:tools', 'portfolio:read', 'trade:read', 'trade:write']);
  });
});

describe('DEFAULT_CHALLENGE_SCOPES', () => {
  it('asks for every supported scope, so a client registered from the challenge can step up later', () => {
    assert.deepEqual([...DEFAULT_CHALLENGE_SCOPES].sort(), [...SCOPES_SUPPORTED].sort());
    assert.ok(!(DEFAULT_CHALLENGE_SCOPES as readonly string[]).includes('offline_access'));
  });
});

describe('missingScopes', () => {
  it('returns the required scopes the caller lacks, in order', () => {
    assert.deepEqual(missingScopes(['mcp:tools', 'trade:read'], ['trade:read', 'trade:write']), ['trade:write']);
    assert.deepEqual(missingScopes(['trade:write'], []), []);
  });
});

describe('stepUpScopes', () => {
  it('keeps the caller MCP scopes, adds the required ones, drops unknown ones', () => {
    assert.deepEqual(stepUpScopes(['openid', 'profile', 'portfolio:read', 'mcp:tools'], ['trade:write']), [
      'mcp:tools',
      'portfolio:read',
      'trade:write',
    ]);
  });

  it('always includes mcp:tools, once', () => {
    assert.deepEqual(stepUpScopes([], ['portfolio:read']), ['mcp:tools', 'portfolio:read']);
  });
});

describe('unobtainableScopes', () => {
  it('names a missing scope whose role the user lacks, with that role', () => {
    assert.deepEqual(unobtainableScopes(['trade:write'], ['viewer']), [{ scope: 'trade:write', role: 'trader' }]);
  });
  it('treats nothing as final when the user holds the role, or when the token lists no roles', () => {
    assert.deepEqual(unobtainableScopes(['trade:write'], ['viewer', 'trader']), []);
    assert.deepEqual(unobtainableScopes(['trade:write'], undefined), []);
    assert.deepEqual(unobtainableScopes(['mcp:tools'], []), []);
  });
});
