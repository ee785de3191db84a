import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from './config.ts';

const DERIVED = [
  'resourceUrl',
  'resourceMetadataUrl',
  'publicOrigin',
  'internalOrigin',
  'cacheMode',
  'stateKey',
  'stateKeySource',
];

/** `KEY=value` lines, plus `# KEY=value` lines (optional variables without a default). */
function parseEnvExample(): { active: Record<string, string>; commented: Record<string, string>; lines: string[] } {
  const lines = readFileSync(new URL('../.env.example', import.meta.url), 'utf8').split('\n');
  const active: Record<string, string> = {};
  const commented: Record<string, string> = {};
  for (const line of lines) {
    const match = /^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match) (match[1] ? commented : active)[match[2] as string] = match[3] as string;
  }
  return { active, commented, lines };
}

/** The keys of the zod object in config.ts, read from the source (the schema is private to the module). */
function schemaKeysFromSource(): string[] {
  const source = readFileSync(new URL('./config.ts', import.meta.url), 'utf8');
  const body = /const EnvSchema = z\.object\(\{([\s\S]*?)\n\}\);/.exec(source)?.[1] ?? '';
  return [...body.matchAll(/^\s{2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1] as string).sort();
}

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error.message;
  }
  assert.fail(`loadConfig(${JSON.stringify(env)}) did not throw`);
}

describe('loadConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const config = loadConfig({});
    assert.equal(config.PORT, 3000);
    assert.equal(config.HOST, '127.0.0.1');
    assert.equal(config.MCP_RESOURCE_URL, 'http://localhost:3000/mcp');
    assert.equal(config.ISSUER_URL, 'http://localhost:8080/realms/sandbox');
    assert.equal(config.CLIENT_ID, 'http://localhost:3000/mcp', 'defaults to MCP_RESOURCE_URL');
    assert.equal(config.STOCK_API_URL, 'http://localhost:4000');
    assert.equal(config.STOCK_API_AUDIENCE, 'stock-api');
    assert.equal(config.REDIS_URL, undefined);
    assert.equal(config.EXCHANGE_CACHE, 'auto');
    assert.equal(config.cacheMode, 'memory');
    assert.equal(config.EXCHANGE_CACHE_SKEW_S, 30);
    assert.deepEqual(config.ALLOWED_ORIGINS, ['localhost', '127.0.0.1', '[::1]']);
    assert.deepEqual(config.ALLOWED_HOSTS, ['localhost', '127.0.0.1', '[::1]']);
    assert.equal(config.MAX_TOKEN_BYTES, 8192);
    assert.equal(config.publicOrigin, 'http://localhost:8080');
    assert.equal(config.internalOrigin, 'http://localhost:8080');
  });

  it('returns a frozen object', () => {
    const config = loadConfig({});
    assert.ok(Object.isFrozen(config));
    assert.throws(() => {
      (config as { PORT: number }).PORT = 1;
    }, TypeError);
  });

  it('derives the path-suffixed protected-resource metadata URL from the resource URL', () => {
    assert.equal(
      loadConfig({}).resourceMetadataUrl.href,
      'http://localhost:3000/.well-known/oauth-protected-resource/mcp',
    );
    assert.equal(
      loadConfig({ MCP_RESOURCE_URL: 'https://mcp.example.com/' }).resourceMetadataUrl.href,
      'https://mcp.example.com/.well-known/oauth-protected-resource',
    );
    assert.equal(
      loadConfig({ MCP_RESOURCE_URL: 'https://mcp.example.com/a/mcp' }).resourceMetadataUrl.href,
      'https://mcp.example.com/.well-known/oauth-protected-resource/a/mcp',
    );
  });

  it('adds the resource host to ALLOWED_HOSTS once', () => {
    assert.deepEqual(loadConfig({ MCP_RESOURCE_URL: 'https://mcp.example.com/mcp' }).ALLOWED_HOSTS, [
      'localhost',
      '127.0.0.1',
      '[::1]',
      'mcp.example.com',
    ]);
    assert.deepEqual(loadConfig({ ALLOWED_HOSTS: ' localhost , ,example.org' }).ALLOWED_HOSTS, [
      'localhost',
      'example.org',
    ]);
  });

  it('uses the internal origin for Keycloak when KEYCLOAK_INTERNAL_URL is set', () => {
    const config = loadConfig({ KEYCLOAK_INTERNAL_URL: 'http://keycloak:8080/anything' });
    assert.equal(config.internalOrigin, 'http://keycloak:8080');
    assert.equal(config.publicOrigin, 'http://localhost:8080');
  });

  it('picks the cache from EXCHANGE_CACHE and REDIS_URL', () => {
    assert.equal(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).cacheMode, 'redis');
    assert.equal(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', EXCHANGE_CACHE: 'memory' }).cacheMode, 'memory');
    assert.equal(loadConfig({ EXCHANGE_CACHE: 'off' }).cacheMode, 'off');
  });

  for (const value of ['abc', '0', '70000', '3000.5']) {
    it(`rejects PORT=${value} naming the variable`, () => {
      assert.match(configError({ PORT: value }), /"PORT" must be a port number/);
    });
  }

  for (const value of ['localhost:8080/realms/sandbox', 'ftp://localhost/realms/sandbox', 'not a url']) {
    it(`rejects ISSUER_URL=${value} naming the variable`, () => {
      assert.match(configError({ ISSUER_URL: value }), /"ISSUER_URL" must be an http\(s\) URL/);
    });
  }

  it('rejects a REDIS_URL that is not redis:// naming the variable', () => {
    assert.match(
      configError({ REDIS_URL: 'http://127.0.0.1:6379' }),
      /"REDIS_URL" must be a redis:\/\/ or rediss:\/\/ URL/,
    );
  });

  it('rejects EXCHANGE_CACHE=redis without REDIS_URL naming both variables', () => {
    const message = configError({ EXCHANGE_CACHE: 'redis' });
    assert.match(message, /"EXCHANGE_CACHE" is redis but "REDIS_URL" is not set/);
  });

  it('rejects an unknown EXCHANGE_CACHE value listing the choices', () => {
    assert.match(configError({ EXCHANGE_CACHE: 'disk' }), /"EXCHANGE_CACHE" must be one of auto, memory, redis, off/);
  });

  it('refuses an https STOCK_API_URL at startup, saying why (regression: the exchanged token went in clear text to port 80)', () => {
    const message = configError({ STOCK_API_URL: 'https://stock.example' });
    assert.match(message, /"STOCK_API_URL" must be an http:\/\/ URL/);
    assert.match(message, /unencrypted/);
    assert.equal(loadConfig({ STOCK_API_URL: 'http://stock-api:4000' }).STOCK_API_URL, 'http://stock-api:4000');
  });

  it('rejects a resource URL with a query or fragment', () => {
    assert.match(
      configError({ MCP_RESOURCE_URL: 'http://localhost:3000/mcp?x=1' }),
      /"MCP_RESOURCE_URL" must not have a query or fragment/,
    );
  });

  it('takes STATE_KEY as 64 hex characters, refuses anything else by name, and makes a random one when unset', () => {
    const key = 'a1'.repeat(32);
    const config = loadConfig({ STATE_KEY: key });
    assert.equal(config.stateKeySource, 'config');
    assert.equal(config.stateKey.toString('hex'), key);
    assert.throws(() => loadConfig({ STATE_KEY: 'sandbox-mcp-server-secret' }), /"STATE_KEY" must be 64 hex/);
    const a = loadConfig({});
    const b = loadConfig({ STATE_KEY: '' });
    assert.equal(a.stateKeySource, 'generated');
    assert.equal(a.stateKey.length, 32);
    assert.notDeepEqual(a.stateKey, b.stateKey, 'two processes without STATE_KEY must not share a key');
  });

  it('names the variable even when the schema message does not', () => {
    assert.match(configError({ LOG_LEVEL: 'loud' }), /"LOG_LEVEL"/);
    assert.match(configError({ HTTP_TIMEOUT_MS: '-5' }), /"HTTP_TIMEOUT_MS" must be positive/);
  });

  it('reports every invalid variable at once', () => {
    const message = configError({ PORT: 'x', ISSUER_URL: 'nope' });
    assert.match(message, /"PORT"/);
    assert.match(message, /"ISSUER_URL"/);
  });
});

describe('.env.example', () => {
  it('parses with loadConfig, including the commented optional variables', () => {
    const { active, commented } = parseEnvExample();
    assert.doesNotThrow(() => loadConfig(active));
    assert.doesNotThrow(() => loadConfig({ ...active, ...commented }));
  });

  it('lists exactly the schema keys', () => {
    const { active, commented } = parseEnvExample();
    const listed = [...Object.keys(active), ...Object.keys(commented)].sort();
    assert.deepEqual(listed, schemaKeysFromSource());
    const parsedKeys = Object.keys(loadConfig({ ...active, ...commented }))
      .filter((key) => !DERIVED.includes(key))
      .sort();
    assert.deepEqual(listed, parsedKeys);
  });

  it('shows the defaults as values', () => {
    const { active } = parseEnvExample();
    const fromFile = loadConfig(active);
    const defaults = loadConfig({});
    for (const key of Object.keys(active)) {
      assert.deepEqual(
        (fromFile as Record<string, unknown>)[key],
        (defaults as Record<string, unknown>)[key],
        `${key} in .env.example is not the default`,
      );
    }
  });

  it('puts a one-line comment above every variable', () => {
    const { lines } = parseEnvExample();
    lines.forEach((line, index) => {
      if (/^(#\s*)?[A-Z][A-Z0-9_]*=/.test(line)) {
        const above = lines[index - 1] ?? '';
        assert.ok(above.startsWith('# ') && !/^#\s*[A-Z][A-Z0-9_]*=/.test(above), `no comment above ${line}`);
      }
    });
  });
});
