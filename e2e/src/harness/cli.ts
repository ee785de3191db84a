// Running the real command-line tools the suites drive (conformance CLIs, MCP clients): a free loopback port for
// their callback servers, and one child-process runner that keeps the whole output for the log and the assertions.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** A TCP port free on 127.0.0.1 right now (for a client's loopback redirect listener). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface CliOptions {
  /** Where the combined stdout+stderr is written when the process ends. */
  logFile?: string;
  /** Killed after this long (a CLI waiting for a browser callback must not hang the suite). */
  timeoutMs?: number;
  /** Called with the output so far on every chunk (e.g. to follow a printed login URL). */
  onOutput?: (output: string, child: ChildProcessWithoutNullStreams) => void;
}

/** Runs `node <script> …args` to its end; resolves with its exit code (null when killed) and its output. */
export function runNodeCli(
  args: string[],
  { logFile, timeoutMs, onOutput }: CliOptions = {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs });
    child.stdin.end();
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      onOutput?.(output, child);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', (code) => {
      if (logFile) writeFileSync(logFile, output);
      resolve({ code, output });
    });
  });
}
