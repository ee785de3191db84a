// The room's attendees as realm users: attendee-001 … attendee-N, every other one a trader (viewer otherwise), each
// with a password of its own, created (or reset) through Keycloak's admin API. `make attendees N=40` prints the sheet.
import { randomBytes } from 'node:crypto';
import type { KeycloakAdmin } from '@sandbox/stack';
import type { Attendee } from './attendee.ts';

export const attendeeName = (i: number) => `attendee-${String(i).padStart(3, '0')}`;

/** Creates the attendees that are missing and sets every attendee's password anew; returns them in order. */
export async function ensureAttendees(admin: KeycloakAdmin, count: number, realm = 'sandbox'): Promise<Attendee[]> {
  const roles = async (name: string) => (await (await admin.fetch(`/${realm}/roles/${name}`)).json()) as unknown;
  const [viewer, trader, offline] = await Promise.all([roles('viewer'), roles('trader'), roles('offline_access')]);
  const attendees: Attendee[] = [];
  for (let i = 1; i <= count; i++) {
    const username = attendeeName(i);
    const isTrader = i % 2 === 1;
    const password = randomBytes(9).toString('base64url');
    let [user] = (await (await admin.fetch(`/${realm}/users?exact=true&username=${username}`)).json()) as Array<{
      id: string;
    }>;
    if (!user) {
      const created = await admin.fetch(`/${realm}/users`, {
        method: 'POST',
        body: JSON.stringify({
          username,
          enabled: true,
          emailVerified: true,
          firstName: 'Attendee',
          lastName: String(i),
          email: `${username}@workshop.invalid`,
        }),
      });
      if (created.status !== 201) throw new Error(`creating ${username}: ${created.status} ${await created.text()}`);
      [user] = (await (await admin.fetch(`/${realm}/users?exact=true&username=${username}`)).json()) as Array<{
        id: string;
      }>;
    }
    if (!user) throw new Error(`${username} was created but cannot be found`);
    const reset = await admin.fetch(`/${realm}/users/${user.id}/reset-password`, {
      method: 'PUT',
      body: JSON.stringify({ type: 'password', value: password, temporary: false }),
    });
    if (!reset.ok) throw new Error(`setting ${username}'s password: ${reset.status}`);
    const mapped = await admin.fetch(`/${realm}/users/${user.id}/role-mappings/realm`, {
      method: 'POST',
      body: JSON.stringify(isTrader ? [viewer, trader, offline] : [viewer, offline]),
    });
    if (!mapped.ok) throw new Error(`giving ${username} roles: ${mapped.status}`);
    attendees.push({ username, password, trader: isTrader });
  }
  return attendees;
}

/** A plain-text sheet for the facilitator to hand out: one line per attendee. */
export function attendeeSheet(attendees: readonly Attendee[], urls: { mcp: string; explorer: string }): string {
  return [
    `MCP server: ${urls.mcp}    Explorer: ${urls.explorer}`,
    '',
    'username       password      role',
    ...attendees.map((a) => `${a.username.padEnd(14)} ${a.password.padEnd(13)} ${a.trader ? 'trader' : 'viewer'}`),
  ].join('\n');
}
