// The running stack under test, handed over by scripts/run-tests.ts (SANDBOX_STACK), whatever the provider; a
// process that starts its own stack (the bench) registers it with useStack().
import { harnessSettings, type StackUnderTest } from './settings.ts';

export type { StackUnderTest };

let current: StackUnderTest | undefined = harnessSettings.SANDBOX_STACK;

export function useStack(given: StackUnderTest): void {
  current = given;
}

export function stack(): StackUnderTest {
  if (!current)
    throw new Error(
      'SANDBOX_STACK is not set: run the e2e suites through `make e2e` (scripts/run-tests.ts starts the stack)',
    );
  return current;
}
