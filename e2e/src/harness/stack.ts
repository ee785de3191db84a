// The running stack under test, handed over by scripts/run-tests.ts (SANDBOX_STACK), whatever the provider.
import type { StackPorts, StackUrls } from '@sandbox/stack';

export interface StackUnderTest { provider: 'native' | 'compose'; name: string; urls: StackUrls; ports: StackPorts }

let cached: StackUnderTest | undefined;

export function stack(): StackUnderTest {
  if (cached) return cached;
  const raw = process.env.SANDBOX_STACK;
  if (!raw) throw new Error('SANDBOX_STACK is not set: run the e2e suites through `make e2e` (scripts/run-tests.ts starts the stack)');
  cached = JSON.parse(raw) as StackUnderTest;
  return cached;
}
