// Variant 2, the peer baseline: the SDK's default stateless handler (what mcp-handler-style servers run) — server,
// transport and tool schema rebuilt per request, 2025-era replies as SSE — serving the same tool shape with a static
// quote. No auth, no downstream call: it does strictly less work than our server.
import { serve } from '@hono/node-server';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { Hono } from 'hono';
import { z } from 'zod';

const handler = createMcpHandler(() => {
  const server = new McpServer({ name: 'sdk-default', version: '1.0.0' });
  server.registerTool(
    'get_stock_info',
    { description: 'Quote', inputSchema: z.object({ symbol: z.string() }) },
    async ({ symbol }) => ({
      content: [{ type: 'text', text: `${symbol} (Acme Corporation): 142.35 USD` }],
      structuredContent: { quote: { symbol, name: 'Acme Corporation', price: 142.35, currency: 'USD' } },
    }),
  );
  return server;
});
const app = new Hono();
app.all('/mcp', (c) => handler.fetch(c.req.raw));
serve({ fetch: app.fetch, port: Number(process.argv[2] ?? 3902), hostname: '127.0.0.1' });
