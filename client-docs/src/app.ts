// GET /clients/<name>.json: one Client ID Metadata Document, its client_id filled in from this host's public URL.
// GET /clients: the catalogue (names, URLs, purposes). GET /healthz. GET /outside-trusted-path/<name>.json: the same
// document outside the trusted path, for the test that Keycloak refuses it. Everything else: 404 with the catalogue.
import { Hono } from 'hono';
import type { Config } from './config.ts';
import { DOCUMENTS, documentUrl, OUTSIDE_PREFIX, outsidePrefixUrl } from './documents.ts';

export type LogWriter = (entry: Record<string, unknown>) => void;

export function createApp(options: { config: Config; log: LogWriter }): Hono {
  const { config, log } = options;
  const app = new Hono();

  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    log({
      at: new Date().toISOString(),
      level: 'info',
      msg: 'request',
      method: c.req.method,
      route: c.req.path,
      status: c.res.status,
      ms: Math.round(performance.now() - started),
      // Keycloak's fetches say who they are; useful when a workshop attendee asks "did Keycloak fetch it?".
      userAgent: c.req.header('user-agent') ?? null,
    });
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/clients', (c) =>
    c.json(
      Object.entries(DOCUMENTS).map(([name, doc]) => ({
        name,
        client_id: documentUrl(config.PUBLIC_URL, name),
        purpose: doc.purpose,
        ...(doc.refusedWith ? { keycloak_refuses_with: doc.refusedWith } : {}),
      })),
    ),
  );

  app.get('/clients/:file', (c) => {
    const name = /^([a-z0-9-]+)\.json$/.exec(c.req.param('file'))?.[1];
    const doc = name ? DOCUMENTS[name] : undefined;
    if (!name || !doc) return notFound(c.req.path);
    c.header('cache-control', `public, max-age=${config.CACHE_MAX_AGE_S}`);
    return c.json(doc.build(documentUrl(config.PUBLIC_URL, name)));
  });

  // The same documents outside /clients/, each naming its own URL: the realm trusts only /clients/, so Keycloak must
  // answer "Client not found." for these without fetching them (e2e/src/security-cimd.test.ts).
  app.get(`${OUTSIDE_PREFIX}/:file`, (c) => {
    const name = /^([a-z0-9-]+)\.json$/.exec(c.req.param('file'))?.[1];
    const doc = name ? DOCUMENTS[name] : undefined;
    if (!name || !doc) return notFound(c.req.path);
    return c.json(doc.build(outsidePrefixUrl(config.PUBLIC_URL, name)));
  });

  app.notFound((c) => notFound(c.req.path));
  const notFound = (path: string) =>
    Response.json(
      {
        error: 'not_found',
        error_description: `No client metadata document at ${path}. GET ${config.PUBLIC_URL}/clients lists them.`,
      },
      { status: 404 },
    );
  return app;
}
