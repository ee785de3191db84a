import { adminApi, ensureHarnessClient, decodeClaims } from './src/harness/keycloak.ts';
import { trackedUserTokens, passwordGrant, adminRoot } from './src/harness/forge.ts';
import { callMcp, toolText, rawHttp, jsonRpcHeaders } from './src/harness/refusals.ts';
import { stack } from './src/harness/stack.ts';
const ALL = 'mcp:tools portfolio:read trade:read trade:write';
// 1 frontendUrl
const realm = await (await adminApi('')).json() as any;
await trackedUserTokens('alice', ALL);
console.log('attrs frontendUrl', realm.attributes?.frontendUrl);
let r = await adminApi('', { method: 'PUT', body: JSON.stringify({ attributes: { ...realm.attributes, frontendUrl: 'https://localhost:18280' } }) });
console.log('put', r.status);
const t1 = await passwordGrant('sandbox', 'e2e-harness', 'alice', 'alice-sandbox', ALL).then((x) => ({ accessToken: x.access_token })).catch(async (e) => { await adminApi('', { method: 'PUT', body: JSON.stringify({ attributes: { ...realm.attributes, frontendUrl: '' } }) }); throw e; });
console.log('iss with frontendUrl', decodeClaims(t1.accessToken).iss);
r = await adminApi('', { method: 'PUT', body: JSON.stringify({ attributes: { ...realm.attributes, frontendUrl: '' } }) });
const t2 = await trackedUserTokens('alice', ALL);
console.log('iss after restore', decodeClaims(t2.accessToken).iss, decodeClaims(t1.accessToken).aud);
let rep = await callMcp(t1.accessToken, { jsonrpc: '2.0', id: 1, method: 'tools/list' }); console.log('https iss ->', rep.status, rep.text.slice(0, 300));
// 5 invalid args
rep = await callMcp(t2.accessToken, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_stock_info', arguments: { symbol: '../portfolio' } } }); console.log('invalid args', rep.status, rep.text.slice(0, 400));
rep = await callMcp(t2.accessToken, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_stock_info', arguments: { symbol: '..' } } }); console.log('.. ', rep.status, rep.text.slice(0, 400));
rep = await callMcp(t2.accessToken, { jsonrpc: '2.0', id: 1, method: 'nope/nope' }); console.log('unknown method', rep.status, rep.text.slice(0, 300));
rep = await callMcp(t2.accessToken, '{not json'); console.log('bad json', rep.status, rep.text.slice(0, 300));
rep = await callMcp(t2.accessToken, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'nope' } }); console.log('unknown tool', rep.status, rep.text.slice(0, 300));
// 4 2026-07-28
for (const h of [{ 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' }]) {
  const res = await fetch(stack().urls.mcp, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${t2.accessToken}`, ...h }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } } }) });
  console.log('2026', res.status, [...res.headers.keys()], (await res.text()).slice(0, 300));
}
const init = (v: string) => fetch(stack().urls.mcp, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${t2.accessToken}` }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: v, capabilities: {}, clientInfo: { name: 'x', version: '1' } } }) });
for (const v of ['2025-06-18', '2025-11-25']) { const res = await init(v); console.log('init', v, res.status, [...res.headers.keys()], (await res.text()).slice(0, 200)); }
// hijack
const bob = await trackedUserTokens('bob', ALL);
rep = await callMcp(bob.accessToken, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } }, { 'mcp-session-id': 'made-up-session-1234' }); console.log('hijack', rep.status, rep.text.slice(0, 200));
// host
const hr = await rawHttp({ rawHeaders: [...jsonRpcHeaders('attacker.example:13200'), 'Authorization', `Bearer ${bob.accessToken}`], body: '{}' }); console.log('host', hr.status, hr.body);
// disabled client
await ensureHarnessClient('e2e-disable-me', {});
const dt = await passwordGrant('sandbox', 'e2e-disable-me', 'alice', 'alice-sandbox', 'openid portfolio:read');
const list = await (await adminApi('/clients?clientId=e2e-disable-me')).json() as any[];
r = await adminApi(`/clients/${list[0].id}`, { method: 'PUT', body: JSON.stringify({ ...list[0], enabled: false }) }); console.log('disable', r.status);
rep = await callMcp(dt.access_token, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } }); console.log('disabled whoami', rep.status, toolText(rep).slice(0, 100));
rep = await callMcp(dt.access_token, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_portfolio', arguments: {} } }); console.log('disabled portfolio', rep.status, rep.text.slice(0, 500));
// logout
const a3 = await trackedUserTokens('alice', ALL);
const users = await (await adminApi('/users?username=alice&exact=true')).json() as any[];
r = await adminApi(`/users/${users[0].id}/logout`, { method: 'POST' }); console.log('logout', r.status);
rep = await callMcp(a3.accessToken, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } }); console.log('after logout whoami', rep.status, toolText(rep).slice(0, 60));
rep = await callMcp(a3.accessToken, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_portfolio', arguments: {} } }); console.log('after logout portfolio', rep.status, rep.text.slice(0, 500));
// refresh token header
console.log('refresh hdr', Buffer.from(a3.refreshToken!.split('.')[0]!, 'base64url').toString(), 'id typ', decodeClaims(a3.idToken!).typ);
// components
const comps = await (await adminApi('/components?type=org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy')).json() as any[];
console.log(comps.filter((c) => c.providerId === 'max-clients'));
console.log('clients', (await (await adminApi('/clients?max=1000')).json() as any[]).length);
