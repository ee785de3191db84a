// Variant 1, the floor: Hono on @hono/node-server answering a JSON echo. No MCP, no auth.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const app = new Hono();
app.post('/mcp', async (c) => {
  const body = (await c.req.json()) as { id?: unknown };
  return c.json({
    jsonrpc: '2.0',
    id: body.id ?? null,
    result: { content: [{ type: 'text', text: 'ACME (Acme Corporation): 142.35 USD' }] },
  });
});
serve({ fetch: app.fetch, port: Number(process.argv[2] ?? 3901), hostname: '127.0.0.1' });
