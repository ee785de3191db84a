// node:test reporter that writes one JSON line of counts. Suites count only when they fail on their own (a hook), or
// when skipped: node:test never runs a skipped suite's body, so its tests are unknown and it counts as one skipped
// (e2e suites use harness/skippable.ts instead, which reports each test inside as skipped).
import type { TestEvent } from 'node:test/reporters';

export default async function* countsReporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const data = event.data as {
      skip?: unknown;
      todo?: unknown;
      details: { type?: string; error?: { failureType?: string } };
    };
    const isSuite = data.details.type === 'suite';
    if (isSuite && event.type === 'test:pass' && (data.skip === undefined || data.skip === false)) continue;
    if (isSuite && data.details.error?.failureType === 'subtestsFailed') continue;
    if (data.skip !== undefined && data.skip !== false) counts.skipped += 1;
    else if (data.todo !== undefined && data.todo !== false) counts.skipped += 1;
    else if (event.type === 'test:pass') counts.passed += 1;
    else counts.failed += 1;
  }
  yield `${JSON.stringify(counts)}\n`;
}
