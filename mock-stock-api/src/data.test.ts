import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getQuote, searchQuotes, SYMBOLS } from './data.ts';

describe('getQuote', () => {
  it('finds a symbol case-insensitively with a consistent day change', () => {
    const quote = getQuote('hooli');
    assert.equal(quote?.symbol, 'HOOLI');
    assert.equal(quote?.currency, 'USD');
    assert.equal(quote && Math.round((quote.price - quote.previousClose) * 100) / 100, quote?.change);
  });

  it('returns undefined for an unknown symbol', () => {
    assert.equal(getQuote('NOPE'), undefined);
  });

  it('serves about fifteen fictional tickers', () => {
    assert.equal(SYMBOLS.length, 15);
    for (const s of ['ACME', 'GLOBX', 'INITECH', 'UMBRL', 'HOOLI', 'WAYNE', 'STARK', 'CYBD', 'TYRL', 'OSCP'])
      assert.ok(SYMBOLS.includes(s));
  });
});

describe('searchQuotes', () => {
  it('matches symbol or name substrings case-insensitively', () => {
    assert.deepEqual(
      searchQuotes('STARK').map((q) => q.symbol),
      ['STARK'],
    );
    assert.deepEqual(
      searchQuotes('umbrella').map((q) => q.symbol),
      ['UMBRL'],
    );
    assert.deepEqual(
      searchQuotes('piper').map((q) => q.symbol),
      ['PIEDP'],
    );
  });

  it('returns nothing for a blank or unmatched query', () => {
    assert.deepEqual(searchQuotes('  '), []);
    assert.deepEqual(searchQuotes('zzz'), []);
  });
});
