import { trackedUserTokens } from './src/harness/forge.ts';
import { stack } from './src/harness/stack.ts';
const t = await trackedUserTokens('bob', 'mcp:tools');
const h = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${t.accessToken}`, 'mcp-protocol-version': '2025-11-25' };
const big = await fetch(stack().urls.mcp, { method: 'POST', headers: h, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { pad: 'x'.repeat(1_100_000) } }) });
console.log('big', big.status, [...big.headers.entries()], await big.text());
for (let i = 0; i < 3; i++) {
  try { const r = await fetch(stack().urls.mcp, { method: 'POST', headers: h, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) }); console.log(i, r.status); await r.text(); } catch (e) { console.log(i, 'FAILED', (e as Error).cause); }
}
