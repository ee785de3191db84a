// A token-injecting reverse proxy: the conformance suite sends no token, so this adds a real Keycloak access token
// to every request and forwards it unchanged otherwise (Host and Origin preserved, so DNS-rebinding checks still bite).
import { createServer, request, type Server } from 'node:http';

export interface TokenProxy {
  url: string;
  close(): Promise<void>;
  requests: number;
}

export async function startTokenProxy(target: string, token: () => string): Promise<TokenProxy> {
  const upstream = new URL(target);
  const state = { requests: 0 };
  const server: Server = createServer((req, res) => {
    state.requests += 1;
    const headers = { ...req.headers, authorization: `Bearer ${token()}` };
    const forward = request(
      {
        host: upstream.hostname === 'localhost' ? '127.0.0.1' : upstream.hostname,
        port: upstream.port,
        path: req.url,
        method: req.method,
        headers,
      },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    forward.on('error', (error) => {
      res
        .writeHead(502, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: 'proxy_error', message: error.message }));
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://localhost:${port}${upstream.pathname}`,
    get requests() {
      return state.requests;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
