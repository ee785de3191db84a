import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { ConfigError, hostVar, integerVar, parseEnv, portVar } from './config.ts';

const schema = z.object({ PORT: portVar('4000'), HOST: hostVar(), TTL: integerVar('60', 10, 600) });
const RULES = { PORT: 'an integer from 1 to 65535', HOST: 'a hostname', TTL: 'an integer from 10 to 600' };

describe('parseEnv', () => {
  it('applies the defaults for unset and empty variables', () => {
    assert.deepEqual(parseEnv(schema, RULES, { PORT: '', TTL: undefined }), { PORT: 4000, HOST: '127.0.0.1', TTL: 60 });
  });

  it('names every invalid variable once, with its rule', () => {
    assert.throws(
      () => parseEnv(schema, RULES, { PORT: '0', HOST: 'http://x', TTL: '9999999' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems.length === 3 &&
        err.problems.includes('"PORT" must be an integer from 1 to 65535') &&
        err.problems.includes('"HOST" must be a hostname') &&
        err.problems.includes('"TTL" must be an integer from 10 to 600'),
    );
  });
});
