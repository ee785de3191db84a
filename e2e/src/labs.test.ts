// The workshop labs against the real stack: for each lab, the symptom is absent as shipped, appears once the lab
// changes its realm setting through Keycloak's admin API, is found by `make doctor` under the lab's name, and is gone
// again after the fix. Then the CLI itself: `make doctor` exits 0 on the clean stack and 1 with the finding while a
// lab is applied through `make lab`, and `make lab-reset` cleans up.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkRealm, connectKeycloak, LABS, PROBE_CLIENT_ID, resetAll } from '@sandbox/workshop';
import { stack } from './harness/stack.ts';
import { workshopCli } from './harness/workshop.ts';

/** What each symptom looks like, so a probe that fails for another reason does not pass for the lab's symptom. */
const SYMPTOM: Record<string, RegExp> = {
  'audience-mapper': /refused \(HTTP 401\).*audience/i,
  'exchange-permission': /tool error \(HTTP 200\).*standard token exchange is not enabled/i,
  'stock-audience': /tool error.*audience "stock-api" is not available/i,
  'upscope-guard': /issued a token with scope "[^"]*trade:write/,
  'dcr-scopes': /HTTP 201/,
  'trader-role': /bob .* scope "[^"]*trade:write/,
  'token-lifespan': /lives 28800 s/,
  'refresh-reuse': /accepted again/,
};

describe('workshop labs: each symptom appears with its lab, make doctor names it, and reset removes it', () => {
  const ctx = () => ({ kc: connectKeycloak(stack().urls.keycloak), mcpUrl: stack().urls.mcp });
  /** The doctor's findings on the live realm, leaving out the probe client these tests' own probes create. */
  const doctorIds = async (withProbe = false) =>
    checkRealm(
      await ctx().kc.admin('/partial-export?exportClients=true&exportGroupsAndRoles=true', { method: 'POST' }),
      stack().urls.mcp,
    )
      .map((f) => f.id)
      .filter((id) => withProbe || id !== 'probe-client');

  before(async () => {
    await resetAll(ctx());
    assert.deepEqual(await doctorIds(), [], 'the realm as the stack imported it has no findings');
  });
  after(async () => {
    await resetAll(ctx());
    const [probe] = await ctx().kc.admin<Array<{ id: string }>>(`/clients?clientId=${PROBE_CLIENT_ID}`);
    if (probe) await ctx().kc.admin(`/clients/${probe.id}`, { method: 'DELETE' });
  });

  it('has at least six labs, each with a symptom pattern here', () => {
    assert.ok(LABS.length >= 6);
    assert.deepEqual(LABS.map((l) => l.name).sort(), Object.keys(SYMPTOM).sort());
  });

  for (const lab of LABS)
    it(`${lab.name}: ${lab.title}`, async () => {
      const c = ctx();
      const shipped = await lab.probe(c);
      assert.equal(shipped.broken, false, `as shipped: ${shipped.observed}`);
      await lab.break(c);
      try {
        const broken = await lab.probe(c);
        assert.equal(broken.broken, true, `with the lab: ${broken.observed}`);
        assert.match(broken.observed, SYMPTOM[lab.name]!);
        assert.ok((await doctorIds()).includes(lab.name), `make doctor finds ${lab.name}`);
      } finally {
        await lab.fix(c);
      }
      const fixed = await lab.probe(c);
      assert.equal(fixed.broken, false, `after the fix: ${fixed.observed}`);
      assert.deepEqual(await doctorIds(), [], 'and the doctor finds nothing again');
    });

  it('the probe client the labs create is itself a finding until lab-reset deletes it', async () => {
    await LABS[0]!.probe(ctx());
    assert.deepEqual(await doctorIds(true), ['probe-client']);
    await resetAll(ctx());
    assert.deepEqual(await doctorIds(true), []);
  });

  it('the CLI: make doctor exits 0 on the clean stack, 1 naming the lab after make lab, 0 after make lab-reset', () => {
    const cli = (...args: string[]) => workshopCli(args);
    assert.equal(cli('lab-reset').code, 0);
    const clean = cli('doctor');
    assert.equal(clean.code, 0, clean.output);
    assert.match(clean.output, /no findings/);
    const applied = cli('lab', 'trader-role');
    assert.equal(applied.code, 0, applied.output);
    assert.match(applied.output, /What catches it/);
    const tried = cli('lab-try');
    assert.match(tried.output, /trader-role: bob .*trade:write/);
    const broken = cli('doctor');
    assert.equal(broken.code, 1, broken.output);
    assert.match(broken.output, /\[trader-role\].*\n\s+fix: /);
    const reset = cli('lab-reset');
    assert.equal(reset.code, 0, reset.output);
    assert.equal(cli('doctor').code, 0);
  });
});
