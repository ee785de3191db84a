// Serving the app over HTTP: the listener, answers to requests Node refuses before the app sees them, and a graceful
// shutdown. main.ts wires these; tests run them on port 0.
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from './log.ts';

/** At most this much of a refused request is read and thrown away before the connection is cut. */
const DRAIN_LIMIT_BYTES = 1_000_000;
const DRAIN_LIMIT_MS = 5000;

/**
 * Answers requests Node's parser refuses (a header block over its 16 KiB limit: 431; anything else: 400) with a
 * response the client can read. Node's default answer destroys the socket while the client is still sending, so a
 * client that sent a 137 KB Authorization header read a connection reset instead of the 431. Here the answer is
 * written, the write side closed, and the rest of the request read and dropped (bounded) so the close is clean.
 *
 *   answerClientErrors(server, logger)
 */
export function answerClientErrors(server: Server, logger: Logger): void {
  const answered = new WeakSet<Duplex>();
  server.on('clientError', function answerClientError(error: NodeJS.ErrnoException, socket: Duplex) {
    // Node's parser stays attached and reports every later chunk again: the first report is answered, the rest ignored.
    if (answered.has(socket)) return;
    answered.add(socket);
    if (!socket.writable || (socket as { _httpMessage?: unknown })._httpMessage) {
      socket.destroy();
      return;
    }
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const body = JSON.stringify({
      error: tooLarge ? 'request_header_fields_too_large' : 'bad_request',
      error_description: tooLarge
        ? 'The request headers are larger than 16 KiB; send a smaller Authorization header (an access token is a few KB).'
        : 'The request is not valid HTTP/1.1.',
    });
    const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
    logger.log('info', 'request refused by the HTTP parser', { code: error.code });
    socket.end(
      `HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
    let drained = 0;
    const stop = setTimeout(() => socket.destroy(), DRAIN_LIMIT_MS);
    stop.unref();
    socket.removeAllListeners('data'); // the parser's: nothing more of this request is parsed
    socket.on('data', (chunk: Buffer) => {
      drained += chunk.length;
      if (drained > DRAIN_LIMIT_BYTES) socket.destroy();
    });
    socket.on('close', () => clearTimeout(stop));
    socket.resume();
  });
}

/**
 * Stops accepting connections, lets the requests in flight finish (up to `timeoutMs`), then runs `close` (caches,
 * Redis). Idle keep-alive connections are closed at once; connections still busy at the deadline are cut.
 * Resolves with whether every request finished in time.
 *
 *   process.once('SIGTERM', () => void drain(server, { timeoutMs: 55_000, close, logger }).then(() => process.exit(0)));
 */
export async function drain(
  server: Server,
  options: { timeoutMs: number; close: () => Promise<void>; logger: Logger },
): Promise<boolean> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // Connections that finish their request while draining: close them instead of keeping them alive.
  const idleSweep = setInterval(() => server.closeIdleConnections(), 250);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), options.timeoutMs);
  });
  const finished = await Promise.race([closed.then(() => true as const), deadline]);
  clearInterval(idleSweep);
  clearTimeout(timer);
  if (!finished) {
    options.logger.log('warn', 'shutdown: requests still running at the deadline were cut', {
      timeoutMs: options.timeoutMs,
    });
    server.closeAllConnections();
  }
  await options.close();
  return finished;
}
