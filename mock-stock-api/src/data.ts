// Fictional stock catalog: fixed, deterministic quotes and search.

export type Quote = Readonly<{
  symbol: string;
  name: string;
  sector: string;
  currency: 'USD';
  price: number;
  previousClose: number;
  change: number;
  changePercent: number;
}>;

// [symbol, name, sector, price, previousClose]
const CATALOG: ReadonlyArray<readonly [string, string, string, number, number]> = [
  ['ACME', 'Acme Corporation', 'Industrials', 142.35, 139.8],
  ['GLOBX', 'Globex Corporation', 'Energy', 87.12, 88.4],
  ['INITECH', 'Initech Software', 'Technology', 54.6, 53.95],
  ['UMBRL', 'Umbrella Pharmaceuticals', 'Health Care', 211.04, 215.5],
  ['HOOLI', 'Hooli Inc.', 'Technology', 318.77, 310.02],
  ['WAYNE', 'Wayne Enterprises', 'Conglomerates', 402.1, 398.75],
  ['STARK', 'Stark Industries', 'Aerospace & Defense', 276.45, 281.3],
  ['CYBD', 'Cyberdyne Systems', 'Technology', 66.18, 61.9],
  ['TYRL', 'Tyrell Corporation', 'Biotechnology', 129.5, 129.5],
  ['OSCP', 'Oscorp Industries', 'Chemicals', 73.25, 75.1],
  ['SOYL', 'Soylent Foods', 'Consumer Staples', 18.42, 18.1],
  ['MASSD', 'Massive Dynamic', 'Technology', 158.9, 152.25],
  ['WONKA', 'Wonka Confectionery', 'Consumer Staples', 45.33, 45.9],
  ['VANDL', 'Vandelay Industries', 'Materials', 12.07, 11.88],
  ['PIEDP', 'Pied Piper', 'Technology', 9.81, 8.95],
];

const round2 = (n: number) => Math.round(n * 100) / 100;

const QUOTES: ReadonlyMap<string, Quote> = new Map(
  CATALOG.map(([symbol, name, sector, price, previousClose]) => [
    symbol,
    Object.freeze({
      symbol,
      name,
      sector,
      currency: 'USD' as const,
      price,
      previousClose,
      change: round2(price - previousClose),
      changePercent: round2(((price - previousClose) / previousClose) * 100),
    }),
  ]),
);

/** All symbols, in catalog order. */
export const SYMBOLS: readonly string[] = Object.freeze([...QUOTES.keys()]);

/** The quote for a symbol (case-insensitive), or undefined. */
export function getQuote(symbol: string): Quote | undefined {
  return QUOTES.get(symbol.toUpperCase());
}

/** Quotes whose symbol or name contains `query`, case-insensitive. */
export function searchQuotes(query: string): Quote[] {
  const needle = query.trim().toLowerCase();
  if (needle === '') return [];
  return [...QUOTES.values()].filter(
    (q) => q.symbol.toLowerCase().includes(needle) || q.name.toLowerCase().includes(needle),
  );
}
