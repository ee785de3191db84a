// Counters the tests and the benchmark read from GET /metrics (JSON). No labels, no tokens.
export interface Metrics {
  exchanges: number;
  exchangeErrors: number;
  cacheHits: number;
  cacheMisses: number;
  singleFlightJoins: number;
  redisErrors: number;
  toolCalls: number;
  /** Tool calls answered by the fast path (mcp/fast-path.ts) instead of the SDK's per-request server. */
  fastPathCalls: number;
  toolErrors: number;
  downstreamCalls: number;
}

/** Fresh counters, all zero. */
export function createMetrics(): Metrics {
  return {
    exchanges: 0,
    exchangeErrors: 0,
    cacheHits: 0,
    cacheMisses: 0,
    singleFlightJoins: 0,
    redisErrors: 0,
    toolCalls: 0,
    fastPathCalls: 0,
    toolErrors: 0,
    downstreamCalls: 0,
  };
}
