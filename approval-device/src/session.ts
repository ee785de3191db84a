// Who is holding this device: a session record per sign-in, kept in this process's memory and named by a signed cookie.
//
// One process is enough, and a restart may sign everyone out: the approval requests themselves live only in this
// process's memory (Keycloak posts each to this one device), so a session could not outlive what it shows. For the same
// reason the cookie key is random per process; it is never derived from a configured or published value.
// Sign-out deletes the record, so a copied cookie stops working at once (revocation, not just an expired cookie).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';
import type { DeviceUser } from './keycloak.ts';

export interface Session extends DeviceUser {
  /** The CSRF token every form of this session carries (hidden field `csrf`). */
  csrf: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

export interface PendingSignIn {
  state: string;
  verifier: string;
  /** Where to go after sign-in: a local path (checked with `localPath`). */
  back: string;
}

const SESSION_COOKIE = 'device_session';
const SIGN_IN_COOKIE = 'device_sign_in';
const SESSION_SECONDS = 8 * 3600;
const SIGN_IN_SECONDS = 600;

/** A path on this device to return to after sign-in: `/` or `/users/<name>`, nothing that leaves the origin. */
export function localPath(value: string | undefined): string {
  return value && /^\/users\/[A-Za-z0-9._@%+-]{1,255}$/.test(value) ? value : '/';
}

/** Constant-time comparison of the CSRF token a form carried with the session's. */
export function csrfMatches(session: Session, sent: unknown): boolean {
  if (typeof sent !== 'string') return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(session.csrf);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function createSessions(options: { secure: boolean; now: () => number }) {
  const key = randomBytes(32).toString('hex');
  const records = new Map<string, Session>();
  const cookie = (maxAge: number) =>
    ({ path: '/', httpOnly: true, sameSite: 'Lax', secure: options.secure, maxAge }) as const;
  const sweep = () => {
    for (const [id, s] of records) if (s.expiresAt <= options.now()) records.delete(id);
  };

  return {
    /** The session the request's cookie names, if it is signed by this process and not signed out or expired. */
    async current(c: Context): Promise<(Session & { id: string }) | undefined> {
      const id = await getSignedCookie(c, key, SESSION_COOKIE);
      if (!id) return undefined;
      const record = records.get(id);
      if (!record || record.expiresAt <= options.now()) return undefined;
      return { ...record, id };
    },
    async start(c: Context, user: DeviceUser): Promise<Session> {
      sweep();
      const id = randomBytes(32).toString('base64url');
      const record: Session = {
        sub: user.sub,
        username: user.username,
        csrf: randomBytes(32).toString('base64url'),
        expiresAt: options.now() + SESSION_SECONDS * 1000,
      };
      records.set(id, record);
      await setSignedCookie(c, SESSION_COOKIE, id, key, cookie(SESSION_SECONDS));
      return record;
    },
    /** Signs out: the record goes, so the cookie (or any copy of it) names nothing any more. */
    end(c: Context, id: string): void {
      records.delete(id);
      deleteCookie(c, SESSION_COOKIE, { path: '/' });
    },
    async rememberSignIn(c: Context, pending: PendingSignIn): Promise<void> {
      await setSignedCookie(c, SIGN_IN_COOKIE, JSON.stringify(pending), key, cookie(SIGN_IN_SECONDS));
    },
    /** The sign-in this browser started (and forgets it): undefined when it expired or came from elsewhere. */
    async takeSignIn(c: Context): Promise<PendingSignIn | undefined> {
      const value = await getSignedCookie(c, key, SIGN_IN_COOKIE);
      deleteCookie(c, SIGN_IN_COOKIE, { path: '/' });
      if (!value) return undefined;
      try {
        const parsed = JSON.parse(value) as PendingSignIn;
        return typeof parsed.state === 'string' && typeof parsed.verifier === 'string' ? parsed : undefined;
      } catch {
        return undefined;
      }
    },
    /** How many sessions are open (tests). */
    size: () => records.size,
  };
}

export type Sessions = ReturnType<typeof createSessions>;
