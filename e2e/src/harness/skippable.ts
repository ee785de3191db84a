// node:test reports a skipped `describe` as one skipped suite and never runs its body, so the tests inside are not
// counted at all (a skipped suite of five tests reads "skipped 0"). A suite that may not apply to the stack under
// test declares its tests with these instead: skipped, each test is reported as skipped with the reason, and the
// hooks do nothing.
//
//   describe('faults: Redis stopped', () => {
//     const { it, after } = skippable(canControl() ? false : 'needs a provider that can stop Redis');
//     after(...); it('keeps calls working', ...);
//   });
import * as nodeTest from 'node:test';

type It = typeof nodeTest.it;
type Hook = typeof nodeTest.before;

export interface SkippableApi {
  it: It;
  before: Hook;
  after: Hook;
  beforeEach: Hook;
  afterEach: Hook;
}

export function skippable(reason: string | false): SkippableApi {
  if (!reason)
    return {
      it: nodeTest.it,
      before: nodeTest.before,
      after: nodeTest.after,
      beforeEach: nodeTest.beforeEach,
      afterEach: nodeTest.afterEach,
    };
  const skipped = ((name: string) => nodeTest.it(name, { skip: reason }, () => {})) as unknown as It;
  const noHook = (() => {}) as unknown as Hook;
  return { it: skipped, before: noHook, after: noHook, beforeEach: noHook, afterEach: noHook };
}
