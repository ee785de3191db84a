import { adminApi } from './src/harness/keycloak.ts';
const realm = await (await adminApi('')).json() as any;
const r = await adminApi('', { method: 'PUT', body: JSON.stringify({ attributes: { ...realm.attributes, frontendUrl: '' } }) });
console.log(r.status, (await (await adminApi('')).json() as any).attributes.frontendUrl);
