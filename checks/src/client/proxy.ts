// A recording forward proxy for the client under test (HTTP_PROXY). Clients that honour it send every request
// through here: absolute-form plain HTTP, or CONNECT (Node's fetch tunnels even plain HTTP). A tunnel whose first
// byte is not a TLS handshake carries plain HTTP, so it is read as HTTP and recorded like the rest; TLS tunnels
// (e.g. a CIMD host) pass through unread. Each exchange keeps only what observations.ts allows: never a token.
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { redactBody, redactResponse, summarizeBearer, type Exchange } from './observations.ts';

const MAX_CAPTURE = 64 * 1024;
const HOP_BY_HOP = ['proxy-connection', 'proxy-authorization', 'keep-alive', 'transfer-encoding', 'upgrade'];

export interface RecordingProxy {
  url: string;
  exchanges: Exchange[];
  close(): Promise<void>;
}

export async function startRecordingProxy(startedAt: number): Promise<RecordingProxy> {
  const exchanges: Exchange[] = [];
  /** Loopback source port of a tunnel's connection to `tunnelled` → the origin the client asked CONNECT for. */
  const tunnelOrigin = new Map<number, string>();
  const sockets = new Set<Socket>();

  function forward(req: IncomingMessage, res: ServerResponse, target: URL): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_CAPTURE) chunks.push(chunk);
    });
    const headers = { ...req.headers };
    for (const name of HOP_BY_HOP) delete headers[name];
    const upstream = httpRequest(target, { method: req.method, headers }, (answer) => {
      const exchange: Exchange = {
        at: Date.now() - startedAt,
        method: req.method ?? 'GET',
        url: target.href,
        status: answer.statusCode ?? 0,
      };
      const challenge = answer.headers['www-authenticate'];
      if (challenge) exchange.challenge = [challenge].flat().join(', ');
      const authorization = req.headers.authorization;
      if (authorization?.toLowerCase().startsWith('bearer '))
        exchange.bearer = summarizeBearer(authorization.slice(7).trim());
      const body =
        size <= MAX_CAPTURE ? redactBody(req.headers['content-type'], Buffer.concat(chunks).toString()) : undefined;
      if (body) exchange.body = body;
      exchanges.push(exchange);
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.headers);
      const json = answer.headers['content-type']?.includes('json') && req.method === 'POST';
      const replies: Buffer[] = [];
      let replySize = 0;
      answer.on('data', (chunk: Buffer) => {
        replySize += chunk.length;
        if (json && replySize <= MAX_CAPTURE) replies.push(chunk);
        res.write(chunk);
      });
      answer.on('end', () => {
        if (json && replySize <= MAX_CAPTURE) {
          const kept = redactResponse(Buffer.concat(replies).toString());
          if (kept) exchange.response = kept;
        }
        res.end();
      });
      answer.on('error', () => res.destroy());
    });
    upstream.on('error', (error) => {
      exchanges.push({ at: Date.now() - startedAt, method: req.method ?? 'GET', url: target.href, status: 0 });
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`check-client proxy: ${target.origin} unreachable: ${error.message}`);
    });
    req.pipe(upstream);
  }

  // Requests read from plain-HTTP CONNECT tunnels: origin-form paths, the origin is the tunnel's.
  const tunnelled = createServer((req, res) => {
    const origin = tunnelOrigin.get(req.socket.remotePort ?? 0);
    if (!origin) {
      res.writeHead(502).end();
      return;
    }
    forward(req, res, new URL(req.url ?? '/', origin));
  });

  const proxy = createServer((req, res) => {
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('check-client proxy: absolute-form URL expected');
      return;
    }
    forward(req, res, target);
  });
  proxy.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  proxy.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const authority = req.url ?? '';
    const [host, port] = [
      authority.slice(0, authority.lastIndexOf(':')),
      Number(authority.slice(authority.lastIndexOf(':') + 1)),
    ];
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    const route = (first: Buffer) => {
      socket.pause(); // until the upstream side is connected; pipe() resumes it
      if (first[0] === 0x16) {
        // TLS: pass it through unread.
        const upstream = connect(port, host.replace(/^\[|\]$/g, ''), () => {
          upstream.write(first);
          socket.pipe(upstream).pipe(socket);
        });
        upstream.on('error', () => socket.destroy());
        socket.on('error', () => upstream.destroy());
        return;
      }
      // Plain HTTP: hand the bytes to the `tunnelled` server over loopback, which reads them as HTTP.
      const inner = connect(tunnelledPort, '127.0.0.1', () => {
        tunnelOrigin.set(inner.localPort ?? 0, `http://${authority}`);
        inner.write(first);
        socket.pipe(inner).pipe(socket);
      });
      inner.on('close', () => tunnelOrigin.delete(inner.localPort ?? 0));
      inner.on('error', () => socket.destroy());
      socket.on('error', () => inner.destroy());
    };
    if (head.length) route(head);
    else socket.once('data', route);
  });

  await new Promise<void>((resolve) => tunnelled.listen(0, '127.0.0.1', resolve));
  const tunnelledPort = (tunnelled.address() as AddressInfo).port;
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        tunnelled.closeAllConnections();
        tunnelled.close();
        proxy.close(() => resolve());
      }),
  };
}
