// Read a request body as text with a size limit, without materialising a web ReadableStream (Hono's bodyLimit
// touches Request.body, which makes @hono/node-server build a full undici Request: ~10% of a tool call's CPU).
import type { IncomingMessage } from 'node:http';

export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
}

/**
 * An oversize body is read and thrown away up to this many bytes (or this long) before the 413 goes out, so a client
 * still sending gets the answer instead of EPIPE/ECONNRESET (lingering close, as nginx does); past that the
 * connection is closed on it. The 413 carries Connection: close either way.
 */
export const DISCARD_LIMIT_BYTES = 16 * 1024 * 1024;
export const DISCARD_TIMEOUT_MS = 2000;

function discardRest(
  incoming: IncomingMessage,
  limitBytes = DISCARD_LIMIT_BYTES,
  timeoutMs = DISCARD_TIMEOUT_MS,
): Promise<void> {
  return new Promise((resolve) => {
    if (incoming.readableEnded || incoming.destroyed) {
      resolve();
      return;
    }
    let size = 0;
    const done = () => {
      clearTimeout(timer);
      incoming.off('readable', onReadable);
      incoming.off('end', done);
      incoming.off('error', done);
      resolve();
    };
    // Paused-mode reads: the request may still have a 'readable' listener (the iterator's), so resume() would not flow.
    const onReadable = () => {
      for (let chunk = incoming.read() as Buffer | null; chunk !== null; chunk = incoming.read() as Buffer | null) {
        size += chunk.length;
        if (size > limitBytes) {
          done();
          return;
        }
      }
    };
    const timer = setTimeout(done, timeoutMs);
    incoming.on('readable', onReadable);
    incoming.once('end', done);
    incoming.once('error', done);
    onReadable();
  });
}

/**
 * UTF-8 as `Request.text()` and `Request.json()` decode it (WHATWG "UTF-8 decode": a leading BOM is dropped, invalid
 * sequences become U+FFFD). Both body paths below use it, so the scope gate and the SDK parse the same characters
 * whichever way the body arrived (a chunked body once kept its BOM, the gate failed to parse it and let it through).
 */
const utf8 = new TextDecoder('utf-8');

export async function readBodyLimited(request: Request, env: unknown, maxBytes: number): Promise<string> {
  const declared = request.headers.get('content-length');
  const incoming = (env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (declared !== null && Number(declared) > maxBytes) {
    if (incoming && Number(declared) <= DISCARD_LIMIT_BYTES) await discardRest(incoming);
    throw new BodyTooLargeError(`content-length ${declared} > ${maxBytes}`);
  }
  if (declared !== null || !incoming) {
    const text = await request.text();
    if (Buffer.byteLength(text) > maxBytes) throw new BodyTooLargeError(`body > ${maxBytes}`);
    return text;
  }
  // Chunked upload: count bytes as they arrive and stop keeping them past the limit. The iterator must not destroy
  // the request on exit: that resets the socket and the client never sees the 413.
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      await discardRest(incoming);
      throw new BodyTooLargeError(`body > ${maxBytes}`);
    }
    chunks.push(chunk);
  }
  return utf8.decode(Buffer.concat(chunks));
}
