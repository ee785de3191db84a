// A small JSON-over-HTTP client on node:http with keep-alive. Every tool call makes one request, so its cost shows:
// measured here (bench notes in docs/performance.md) fetch cost ~2x, undici's Pool and an HTTP/2 session about the
// same as this (~125-140 µs of CPU per call on these machines, mostly syscalls), so no extra dependency earns it.
// Times out as a whole (connect + response) after timeoutMs.
import { Agent, request } from 'node:http';

export interface HttpResponse {
  status: number;
  text: string;
}

export interface HttpClient {
  send(
    url: URL,
    init: { method: string; headers: Record<string, string>; body?: string; timeoutMs: number },
  ): Promise<HttpResponse>;
  close(): void;
}

export class HttpTimeoutError extends Error {
  override name = 'TimeoutError';
}

/** A keep-alive HTTP/1.1 client for plain-HTTP JSON calls; `close()` destroys its sockets. */
export function createHttpClient(maxSockets = 128): HttpClient {
  const agent = new Agent({ keepAlive: true, maxSockets, keepAliveMsecs: 1000 });
  return {
    send(url, init) {
      return new Promise<HttpResponse>((resolve, reject) => {
        // Config refuses https stock API URLs; this guard keeps a token from leaving in clear text if one slips by.
        if (url.protocol !== 'http:') {
          reject(new TypeError(`createHttpClient speaks plain HTTP only, not ${url.protocol}`));
          return;
        }
        const headers: Record<string, string | number> = { ...init.headers };
        if (init.body !== undefined) headers['content-length'] = Buffer.byteLength(init.body);
        const req = request(
          {
            agent,
            host: url.hostname === 'localhost' ? '127.0.0.1' : url.hostname,
            port: url.port,
            path: url.pathname + url.search,
            method: init.method,
            headers,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => {
              clearTimeout(timer);
              resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
            });
            res.on('error', (error) => {
              clearTimeout(timer);
              reject(error);
            });
          },
        );
        const timer = setTimeout(
          () => req.destroy(new HttpTimeoutError(`no answer within ${init.timeoutMs} ms`)),
          init.timeoutMs,
        );
        req.on('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
        req.end(init.body);
      });
    },
    close: () => agent.destroy(),
  };
}
