// One attendee of the room, over HTTP only: the real MCP SDK v2 client does discovery, registration and PKCE (its
// browser step is a form sign-in at Keycloak), then tool calls, the trader's step-up to trade:write, and an order
// large enough to need approval, which the attendee approves on the approval device (signed in there over HTTP too).
// Every step is timed and its failure classified; the attendee's own data is checked (a leak is someone else's).
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import { httpSession, signInAtKeycloak, type HttpSession } from './http-session.ts';

export interface Attendee {
  username: string;
  password: string;
  trader: boolean;
}

export interface Urls {
  mcp: string;
  approvalDevice: string;
  /** ACME shares in the order that must cross the stack's approval threshold (8 on e2e stacks: 1,138.80 > 1000). */
  bigOrder: number;
  /** How requests go out (default: the global fetch). */
  fetch?: typeof fetch;
}

export interface StepRecord {
  attendee: string;
  step: string;
  ok: boolean;
  ms: number;
  /** Why it failed: unauthorized, http_<status>, network, timeout, tool:<code>, leak, or the error's name. */
  failure?: string;
  detail?: string;
}

export interface AttendeeOutcome {
  attendee: string;
  steps: StepRecord[];
  /** Portfolio rows that named another user (must stay 0). */
  leaks: number;
  /** Orders the client saw filled, and ACME shares the portfolio gained: they must agree. */
  ordersFilled: number;
  sharesExpected: number;
  sharesGained: number | undefined;
  registeredClientId: string | undefined;
  /** The attendee's `sub`, as their own portfolio names it. */
  sub?: string;
}

const REDIRECT = 'http://127.0.0.1:49999/callback';

class HttpOAuthProvider {
  client: unknown;
  savedTokens: { access_token: string } | undefined;
  verifier = '';
  discovery: unknown;
  lastCallback: URL | undefined;
  readonly stateValue = crypto.randomUUID();
  private readonly session: HttpSession;
  private readonly attendee: Attendee;
  constructor(session: HttpSession, attendee: Attendee) {
    this.session = session;
    this.attendee = attendee;
  }
  get redirectUrl() {
    return REDIRECT;
  }
  get clientMetadata() {
    return {
      client_name: `scale ${this.attendee.username}`,
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
    };
  }
  state = () => this.stateValue;
  clientInformation = () => this.client as never;
  saveClientInformation = (info: unknown) => void (this.client = info);
  tokens = () => this.savedTokens as never;
  saveTokens = (tokens: { access_token: string }) => void (this.savedTokens = tokens);
  saveCodeVerifier = (verifier: string) => void (this.verifier = verifier);
  codeVerifier = () => this.verifier;
  saveDiscoveryState = (state: unknown) => void (this.discovery = state);
  discoveryState = () => this.discovery as never;
  async redirectToAuthorization(url: URL): Promise<void> {
    this.lastCallback = await signInAtKeycloak(this.session, url, this.attendee);
    if (this.lastCallback.searchParams.get('state') !== this.stateValue) throw new Error('OAuth state mismatch');
  }
}

/** A short, stable class for a failure. */
export function classify(error: unknown): string {
  if (error instanceof UnauthorizedError) return 'unauthorized';
  const e = error as { name?: string; code?: unknown; message?: string; cause?: { code?: string } };
  const status = /\b(HTTP |status |Error POSTing to endpoint \(HTTP )?([45]\d\d)\b/.exec(e.message ?? '')?.[2];
  if (status) return `http_${status}`;
  if (e.name === 'TimeoutError' || /timed? ?out/i.test(e.message ?? '')) return 'timeout';
  if (e.cause?.code === 'ECONNREFUSED' || e.cause?.code === 'ECONNRESET' || /fetch failed/.test(e.message ?? ''))
    return 'network';
  return e.name ?? 'Error';
}

export async function runAttendee(attendee: Attendee, urls: Urls): Promise<AttendeeOutcome> {
  const steps: StepRecord[] = [];
  const outcome: AttendeeOutcome = {
    attendee: attendee.username,
    steps,
    leaks: 0,
    ordersFilled: 0,
    sharesExpected: 0,
    sharesGained: undefined,
    registeredClientId: undefined,
  };
  const session = httpSession(urls.fetch);
  const provider = new HttpOAuthProvider(session, attendee);
  let client = newClient();
  let transport = newTransport();
  function newClient() {
    return new Client({ name: `scale-${attendee.username}`, version: '1.0.0' }, {
      versionNegotiation: { mode: { pin: '2026-07-28' } },
    } as never);
  }
  function newTransport() {
    return new StreamableHTTPClientTransport(new URL(urls.mcp), {
      authProvider: provider as never,
      ...(urls.fetch ? { fetch: urls.fetch } : {}),
    });
  }

  async function step<T>(name: string, work: () => Promise<T>): Promise<T | undefined> {
    const started = performance.now();
    try {
      const value = await work();
      steps.push({ attendee: attendee.username, step: name, ok: true, ms: Math.round(performance.now() - started) });
      return value;
    } catch (error) {
      steps.push({
        attendee: attendee.username,
        step: name,
        ok: false,
        ms: Math.round(performance.now() - started),
        failure: classify(error),
        detail: String((error as Error).message ?? error).slice(0, 200),
      });
      return undefined;
    }
  }
  /** A tool call; on UnauthorizedError (the SDK already signed in again: first login or step-up) finish and retry. */
  async function call(name: string, args: Record<string, unknown> = {}) {
    const attempt = async () =>
      (await client.callTool({ name, arguments: args })) as {
        isError?: boolean;
        structuredContent?: Record<string, unknown>;
        content?: Array<{ text?: string }>;
      };
    let result;
    try {
      result = await attempt();
    } catch (error) {
      if (!(error instanceof UnauthorizedError) || !provider.lastCallback) throw error;
      await transport.finishAuth(provider.lastCallback.searchParams);
      result = await attempt();
    }
    if (result.isError)
      throw Object.assign(new Error(result.content?.[0]?.text ?? 'tool error'), {
        name: `tool:${String((result.structuredContent as { error?: string } | undefined)?.error ?? 'error')}`,
      });
    return result;
  }
  const acmeHeld = async () => {
    const result = await call('get_portfolio');
    const portfolio = result.structuredContent?.portfolio as
      | { owner?: { username?: string; sub?: string }; holdings: Array<{ symbol: string; quantity: number }> }
      | undefined;
    if (portfolio?.owner?.username !== attendee.username) {
      outcome.leaks += 1;
      throw Object.assign(new Error(`portfolio of ${portfolio?.owner?.username} shown to ${attendee.username}`), {
        name: 'leak',
      });
    }
    outcome.sub ??= portfolio.owner.sub;
    return portfolio.holdings.find((h) => h.symbol === 'ACME')?.quantity ?? 0;
  };

  const connected = await step('sign_in', async () => {
    try {
      await client.connect(transport);
    } catch (error) {
      if (!(error instanceof UnauthorizedError) || !provider.lastCallback) throw error;
      await transport.finishAuth(provider.lastCallback.searchParams);
      client = newClient();
      transport = newTransport();
      await client.connect(transport);
    }
    outcome.registeredClientId = (provider.client as { client_id?: string } | undefined)?.client_id;
    return true;
  });
  if (!connected) return outcome;
  await step('list_tools', async () => (await client.listTools()).tools.length);
  const before = await step('get_portfolio', acmeHeld);
  await step('get_stock_info', () => call('get_stock_info', { symbol: 'ACME' }));
  if (attendee.trader) {
    // Step-up: the first order asks for trade:write (403 insufficient_scope → the SDK signs in again with it).
    const small = await step('step_up_order', () => call('place_order', { symbol: 'ACME', side: 'buy', quantity: 1 }));
    if (small) {
      outcome.ordersFilled += 1;
      outcome.sharesExpected += 1;
    }
    const big = await step('approved_order', async () => {
      const order = call('place_order', { symbol: 'ACME', side: 'buy', quantity: urls.bigOrder });
      const approval = approveOnDevice(attendee, urls, `Buy ${urls.bigOrder} ACME`);
      const [result] = await Promise.all([order, approval]);
      return result;
    });
    if (big) {
      outcome.ordersFilled += 1;
      outcome.sharesExpected += urls.bigOrder;
    }
  } else {
    // A viewer's order is refused for good (no trader role): a tool error naming the role, no challenge, no loop.
    await step('viewer_refused', async () => {
      try {
        await call('place_order', { symbol: 'ACME', side: 'buy', quantity: 1 });
      } catch (error) {
        if ((error as Error).name === 'tool:missing_role') return true;
        throw error;
      }
      throw new Error(`${attendee.username} (no trader role) placed an order`);
    });
  }
  const after = await step('final_portfolio', acmeHeld);
  if (before !== undefined && after !== undefined) outcome.sharesGained = after - before;
  await client.close().catch(() => {});
  return outcome;
}

/** Signs the attendee in on the approval device and approves the pending request whose summary starts so. */
export async function approveOnDevice(attendee: Attendee, urls: Urls, summaryStart: string): Promise<void> {
  const device = httpSession(urls.fetch);
  const home = new URL(`/users/${encodeURIComponent(attendee.username)}`, urls.approvalDevice);
  // /users/<name> → /login → Keycloak → /callback → /users/<name>: the device's own sign-in, over HTTP.
  const toKeycloak = await device.follow(home, (u) => u.origin !== new URL(urls.approvalDevice).origin);
  const back = await signInAtKeycloak(device, toKeycloak.url, attendee);
  const landed = await device.follow(back);
  if (landed.response.status !== 200) throw new Error(`device sign-in ended with ${landed.response.status}`);
  const page = await landed.response.text();
  for (let i = 0; i < 120; i++) {
    const listed = (await (await device.fetch(new URL('/requests', urls.approvalDevice))).json()) as Array<{
      id: string;
      summary: string;
      status: string;
    }>;
    const pending = listed.find((r) => r.status === 'pending' && r.summary.startsWith(summaryStart));
    if (pending) {
      const fresh = await (await device.fetch(home)).text();
      const csrf = /name="csrf" value="([^"]+)"/.exec(fresh || page)?.[1];
      if (!csrf) throw new Error('no CSRF token on the device page');
      const decided = await device.fetch(new URL(`/requests/${pending.id}/decision`, urls.approvalDevice), {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          origin: new URL(urls.approvalDevice).origin,
        },
        body: new URLSearchParams({ csrf, decision: 'approve' }),
      });
      if (decided.status !== 303) throw new Error(`the device refused the approval: ${decided.status}`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`no pending "${summaryStart}…" reached ${attendee.username}'s device in 30 s`);
}
