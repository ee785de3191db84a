// The downstream HTTP client: undici's Pool (keep-alive, HTTP/1.1 pipelining). Every tool call makes one request,
// and on these machines node:http's client cost ~270 µs of CPU per call against ~100 µs for the rest of the call;
// a pipelined pool writes many requests per syscall. Times out as a whole after timeoutMs.
import { Pool, errors } from 'undici';

export interface HttpResponse { status: number; text: string }

export interface HttpClient {
  send(url: URL, init: { method: string; headers: Record<string, string>; body?: string; timeoutMs: number }): Promise<HttpResponse>;
  close(): Promise<void>;
}

export class HttpTimeoutError extends Error {
  override name = 'TimeoutError';
}

export function createHttpClient(options: { connections?: number; pipelining?: number } = {}): HttpClient {
  const pools = new Map<string, Pool>();
  const pool = (origin: string) => {
    let found = pools.get(origin);
    if (!found) {
      found = new Pool(origin, { connections: options.connections ?? 16, pipelining: options.pipelining ?? 8, keepAliveTimeout: 10_000 });
      pools.set(origin, found);
    }
    return found;
  };
  return {
    async send(url, init) {
      try {
        const response = await pool(url.origin).request({
          path: url.pathname + url.search, method: init.method as 'GET', headers: init.headers, body: init.body,
          headersTimeout: init.timeoutMs, bodyTimeout: init.timeoutMs, signal: AbortSignal.timeout(init.timeoutMs),
        });
        return { status: response.statusCode, text: await response.body.text() };
      } catch (error) {
        if (error instanceof errors.HeadersTimeoutError || error instanceof errors.BodyTimeoutError || (error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError') {
          throw new HttpTimeoutError(`no answer within ${init.timeoutMs} ms`, { cause: error });
        }
        throw error;
      }
    },
    async close() { await Promise.all([...pools.values()].map((p) => p.close())); },
  };
}
