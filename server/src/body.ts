// Read a request body as text with a size limit, without materialising a web ReadableStream (Hono's bodyLimit
// touches Request.body, which makes @hono/node-server build a full undici Request: ~10% of a tool call's CPU).
import type { IncomingMessage } from 'node:http';

export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
}

export async function readBodyLimited(request: Request, env: unknown, maxBytes: number): Promise<string> {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > maxBytes) throw new BodyTooLargeError(`content-length ${declared} > ${maxBytes}`);
  const incoming = (env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (declared !== null || !incoming) {
    const text = await request.text();
    if (Buffer.byteLength(text) > maxBytes) throw new BodyTooLargeError(`body > ${maxBytes}`);
    return text;
  }
  // Chunked upload: count bytes as they arrive and stop reading past the limit.
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Stop reading but keep the socket: destroying it here would drop the 413 (the client saw ECONNRESET). The 413
    // carries Connection: close, so Node closes the connection once the answer is out.
    if (size > maxBytes) throw new BodyTooLargeError(`body > ${maxBytes}`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
