#!/usr/bin/env node
// `mcp-auth-check <command> …`: conformance checks for other people's MCP servers and clients against the sandbox
// realm. Arguments are parsed once, here, by each command's parser; results go to stdout (people) and to
// <out>/<name>.json and .junit.xml (CI). Exit codes: 0 passed (skips allowed), 1 a check failed, 2 usage or setup.
import { ZodError } from 'zod';
import { formatReport, writeReport, type Report } from './report.ts';
import { parseServerCheckArgs, SERVER_USAGE } from './server/options.ts';
import { runCheckServer, SetupError } from './server/run.ts';
import { CHECK_CLIENT_USAGE, ClientSetupError, parseCheckClientArgs, runCheckClient } from './client/index.ts';

const USAGE = `Usage: node checks/src/cli.ts <command> [options]
Commands:
  check-server <mcp-url>   how an MCP server validates the sandbox realm's tokens (make check-server URL=…)
  check-client …           how an MCP client gets through discovery, login and step-up (see docs)

${SERVER_USAGE}

${CHECK_CLIENT_USAGE}`;

interface Command {
  run(argv: readonly string[]): Promise<{ report: Report; out: string; name: string }>;
}

const COMMANDS: Record<string, Command> = {
  'check-server': {
    async run(argv) {
      const options = parseServerCheckArgs(argv);
      const report = await runCheckServer(options, (line) => console.error(line));
      return { report, out: options.out, name: options.name };
    },
  },
  'check-client': {
    async run(argv) {
      const options = parseCheckClientArgs([...argv], process.env);
      const report = await runCheckClient(options).catch((error: unknown) => {
        throw error instanceof ClientSetupError ? new SetupError(error.message) : error;
      });
      return { report, out: options.outDir, name: options.name };
    },
  },
};

function usageError(error: unknown): string | undefined {
  if (error instanceof ZodError) return error.issues.map((i) => i.message || `${i.path.join('.')}: invalid`).join('\n');
  if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))
    return error.message;
  if (error instanceof TypeError) return error.message;
  return undefined;
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === 'help') {
    console.log(USAGE);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  if (rest.includes('--help')) {
    console.log(USAGE);
    return 0;
  }
  try {
    const { report, out, name: file } = await command.run(rest);
    console.log(formatReport(report));
    const written = writeReport(report, out, file);
    console.log(`results: ${written.json}, ${written.junit}`);
    return report.results.some((r) => r.status === 'fail') ? 1 : 0;
  } catch (error) {
    const usage = usageError(error);
    if (usage !== undefined) {
      console.error(`${usage}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof SetupError) {
      console.error(`check could not run: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
