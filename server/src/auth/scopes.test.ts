import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_CHALLENGE_SCOPES,
  missingScopes,
  MCP_SCOPES,
  SCOPES_SUPPORTED,
  stepUpScopes,
  unobtainableScopes,
} from './scopes.ts';
import { TOOLS } from '../mcp/tools.ts';

describe('SCOPES_SUPPORTED', () => {
  it('is the minimal set for basic functionality (the challenge scopes): no trade:write, never offline_access', () => {
    assert.deepEqual([...SCOPES_SUPPORTED], [...DEFAULT_CHALLENGE_SCOPES]);
    assert.ok(!(SCOPES_SUPPORTED as readonly string[]).includes('offline_access'));
  });
  it('is a subset of the scopes the resource understands', () => {
    assert.deepEqual([...MCP_SCOPES], ['mcp:tools', 'portfolio:read', 'trade:read', 'trade:write']);
    for (const scope of SCOPES_SUPPORTED) assert.ok((MCP_SCOPES as readonly string[]).includes(scope), scope);
  });
});

describe('DEFAULT_CHALLENGE_SCOPES', () => {
  it('asks for what reading needs and not trade:write (least privilege: trading is a step-up)', () => {
    assert.deepEqual([...DEFAULT_CHALLENGE_SCOPES], ['mcp:tools', 'portfolio:read', 'trade:read']);
    assert.ok(!(DEFAULT_CHALLENGE_SCOPES as readonly string[]).includes('trade:write'));
    assert.ok(!(DEFAULT_CHALLENGE_SCOPES as readonly string[]).includes('offline_access'));
  });
  it('covers every tool that only reads', () => {
    for (const tool of TOOLS.filter((t) => !t.requiredScopes.includes('trade:write')))
      assert.deepEqual(missingScopes(DEFAULT_CHALLENGE_SCOPES, tool.requiredScopes), [], tool.name);
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
