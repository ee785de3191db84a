// check-server from start to end: discovery, then throwaway realm clients for the target's audience, the token
// checks, step-up, Origin/Host and passthrough, then cleanup. Returns the report; the CLI prints and writes it.
import type { CheckResult, Report } from '../report.ts';
import { scopeList } from './challenge.ts';
import { checkDiscovery } from './discovery.ts';
import type { ServerCheckOptions } from './options.ts';
import { checkHost, checkOrigin, checkPassthrough, checkStepUp } from './policy.ts';
import { createTestRealm, SetupError } from './realm.ts';
import { checkRefusals, checkValidToken, startExpiryCheck } from './tokens.ts';

export { SetupError } from './realm.ts';

/**
 * Runs every check against `options.url`. Throws SetupError when the realm cannot be used (admin login, realm),
 * which is a problem of the run, not a finding about the server.
 *
 *   const report = await runCheckServer(parseServerCheckArgs(['http://localhost:3000/mcp']));
 */
export async function runCheckServer(
  options: ServerCheckOptions,
  progress: (line: string) => void = () => {},
): Promise<Report> {
  const startedAt = new Date().toISOString();
  const results: CheckResult[] = [];
  progress(`check-server ${options.url}: discovery`);
  const discovery = await checkDiscovery(options.url, options.issuer).catch((error: Error) => {
    const cause = (error.cause as Error | undefined)?.message ?? error.message;
    throw new SetupError(`the MCP server at ${options.url} did not answer (${cause}); is it running?`);
  });
  results.push(...discovery.checks);

  // The valid token gets what the challenge asks for (least privilege), never the step-up scope.
  const baseScopes = scopeList(
    options.scope ?? discovery.challenge?.scope ?? discovery.scopesSupported.join(' '),
  ).filter((s) => s !== options.stepUpScope);
  progress(`creating throwaway clients in realm ${options.realm} for audience ${discovery.resource}`);
  const realm = await createTestRealm(
    {
      keycloak: options.keycloak,
      realm: options.realm,
      adminUser: options.adminUser,
      adminPassword: options.adminPassword,
    },
    discovery.resource,
    [...baseScopes, options.stepUpScope],
  );
  try {
    const scope = baseScopes.filter((s) => realm.scopes.includes(s)).join(' ');
    const finishExpiry = await startExpiryCheck(options.url, realm, options.user, scope, options.leewayS);
    const valid = await realm.grant(options.user, scope);
    progress('token checks');
    const { result: validResult, tools = [] } = await checkValidToken(options.url, valid.accessToken);
    results.push(validResult);
    const accepted = validResult.status === 'pass';
    results.push(
      ...(await checkRefusals(
        options.url,
        realm,
        options.issuer,
        { user: options.user, other: options.otherUser },
        valid,
        accepted,
      )),
    );
    progress('step-up, Origin, Host, passthrough');
    results.push(
      await checkStepUp(
        options.url,
        valid.accessToken,
        tools,
        options.stepUpTool,
        options.stepUpScope,
        options.stepUpArgs,
      ),
      await checkOrigin(options.url, valid.accessToken),
      await checkHost(options.url, valid.accessToken),
      await checkPassthrough(
        options.url,
        async () => (await realm.grant(options.user, scope)).accessToken,
        tools,
        options.passthroughTool,
        options.passthroughArgs,
        options.stockApi,
      ),
    );
    progress(`waiting for the short-lived token to expire (+${options.leewayS} s leeway)`);
    results.push(await finishExpiry());
  } finally {
    for (const problem of await realm.cleanup()) progress(`WARNING: ${problem}`);
  }
  return { tool: 'check-server', target: options.url, startedAt, results };
}
