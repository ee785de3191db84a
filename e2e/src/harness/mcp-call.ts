// scripts/mcp-call.ts (`make call`) as a user runs it: each sign-in URL it prints is opened in Chromium, where the
// user signs in at Keycloak. Used by the README and workshop walkthrough suites.
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { documentUrl } from '@sandbox/client-docs';
import { signIn } from './browser.ts';
import { runNodeCli } from './cli.ts';
import { stack } from './stack.ts';

const MCP_CALL = join(import.meta.dirname, '..', '..', '..', 'scripts', 'mcp-call.ts');

export interface McpCallRun {
  code: number | null;
  output: string;
  /** How many sign-in URLs the script printed (and the user followed). */
  signIns: number;
}

export async function mcpCall(
  browser: Browser,
  stateDir: string,
  tool: string,
  args: unknown,
  options: { user?: 'alice' | 'bob'; onOutput?: (output: string) => void } = {},
): Promise<McpCallRun> {
  const context = await browser.newContext();
  const opened = new Set<string>();
  let chain: Promise<unknown> = Promise.resolve();
  try {
    const run = await runNodeCli(
      [
        MCP_CALL,
        tool,
        JSON.stringify(args),
        '--url',
        stack().urls.mcp,
        '--client-metadata-url',
        documentUrl(stack().urls.clientDocs, 'sdk-reference'),
        '--state-dir',
        stateDir,
      ],
      {
        timeoutMs: 90_000,
        onOutput(output) {
          for (const match of output.matchAll(/Open this URL in your browser:\s+(\S+)/g)) {
            const url = match[1] as string;
            if (opened.has(url)) continue;
            opened.add(url);
            chain = chain.then(async () => {
              const page = await context.newPage();
              await signIn(
                page,
                new URL(url),
                options.user ?? 'alice',
                page.waitForURL(/\/callback/, { timeout: 30_000 }),
              );
            });
          }
          options.onOutput?.(output);
        },
      },
    );
    await chain;
    return { code: run.code, output: run.output, signIns: opened.size };
  } finally {
    await context.close();
  }
}
