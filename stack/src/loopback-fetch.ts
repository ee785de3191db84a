// A fetch that resolves one host name (the shared profile's sandbox.localhost, which Node's resolver does not map, or a
// room's name) to 127.0.0.1 and trusts the sandbox's local CA, on node:http(s) so it needs no dependency. The shared
// profile's suite and `make scale` against that profile use it.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * `fetch` with `host` mapped to 127.0.0.1 (only that name; loopback only) and `ca` trusted for https. Follows
 * redirects unless `redirect: 'manual'`; streams the response body (SSE works).
 */
export function loopbackFetch(host: string, ca: string | Buffer): typeof fetch {
  const lookup = (hostname: string, options: { all?: boolean }, callback: LookupCallback) => {
    if (hostname !== host) return dnsLookup(hostname, options as never, callback as never);
    if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
    else callback(null, '127.0.0.1', 4);
  };
  const once = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
    const headers: Record<string, string> = {};
    request.headers.forEach((value, key) => (headers[key] = value));
    if (body) headers['content-length'] = String(body.length);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = send(url, {
        method: request.method,
        headers,
        lookup: lookup as never,
        // A connection per request: a pooled one would outlive a `down` and `up` of the stack.
        agent: false,
        ...(url.protocol === 'https:' ? { ca, servername: url.hostname } : {}),
      });
      request.signal.addEventListener('abort', () => req.destroy(request.signal.reason as Error), { once: true });
      req.on('response', resolve);
      req.on('error', reject);
      req.end(body);
    });
    const responseHeaders = new Headers();
    for (const [key, value] of Object.entries(response.headers))
      for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value])
        responseHeaders.append(key, one);
    const status = response.statusCode ?? 0;
    const empty = [101, 204, 205, 304].includes(status) || request.method === 'HEAD';
    if (empty) response.resume();
    return new Response(empty ? null : (Readable.toWeb(response) as ReadableStream), {
      status,
      statusText: response.statusMessage ?? '',
      headers: responseHeaders,
    });
  };
  const fetchThrough = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    let request = new Request(input, init);
    for (let hop = 0; hop < 10; hop++) {
      const response = await once(request);
      const location = response.headers.get('location');
      if (request.redirect === 'manual' || !location || ![301, 302, 303, 307, 308].includes(response.status))
        return response;
      await response.body?.cancel();
      const keepsBody = [307, 308].includes(response.status);
      request = new Request(new URL(location, request.url), {
        method: keepsBody ? request.method : 'GET',
        headers: request.headers,
        ...(keepsBody && request.body ? { body: await request.arrayBuffer() } : {}),
      });
    }
    throw new Error(`too many redirects from ${String(input)}`);
  };
  return fetchThrough as typeof fetch;
}
