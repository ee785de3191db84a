// The native stack's processes, for the fault suite: pids from .run/<name>/state.json (stack/src/native.ts), pausing
// a service's whole process group (SIGSTOP/SIGCONT), and stopping/restarting the stack's own redis-server.
import { spawn } from 'node:child_process';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pingRedis as pingRedisAt, readState, runDir, type ServiceName } from '@sandbox/stack';
import { stack } from './stack.ts';

function stateFile(): string { return join(runDir(stack().name), 'state.json'); }

function readStateFile() {
  return readState(stack().name);
}

/** Whether this stack's processes can be signalled from here (native provider with a state file). */
export function canSignal(): boolean {
  return stack().provider === 'native' && readStateFile() !== undefined;
}

export function pidOf(service: ServiceName): number | undefined {
  return readStateFile()?.processes.find((p) => p.service === service)?.pid;
}

export function logFile(service: ServiceName): string {
  return join(runDir(stack().name), 'logs', `${service}.log`);
}

export function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

function signalGroup(service: ServiceName, signal: NodeJS.Signals): void {
  const pid = pidOf(service);
  if (pid === undefined) throw new Error(`no ${service} process recorded for stack ${stack().name}`);
  // Each service runs in its own process group (detached spawn): signal the group, so kc.sh's java child stops too.
  process.kill(-pid, signal);
}

/** Freezes a service (SIGSTOP to its process group): it keeps its sockets but answers nothing. */
export function pause(service: ServiceName): void { signalGroup(service, 'SIGSTOP'); }
export function resume(service: ServiceName): void { signalGroup(service, 'SIGCONT'); }

/** Runs fn with the service frozen; always resumes it. */
export async function whilePaused<T>(service: ServiceName, fn: () => Promise<T>): Promise<T> {
  pause(service);
  try { return await fn(); } finally { resume(service); }
}

/** Whether the stack's Redis answers PING (the launcher's own probe). */
export function pingRedis(port = stack().ports.redis, timeoutMs = 500): Promise<boolean> {
  return pingRedisAt(port, '127.0.0.1', timeoutMs);
}

/** Sends one inline command to the stack's Redis and returns the raw reply. */
export function redisCommand(command: string, port = stack().ports.redis): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let reply = '';
    socket.setTimeout(2000, () => { socket.destroy(); reject(new Error(`redis ${command}: timeout`)); });
    socket.once('error', reject);
    socket.once('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (data) => {
      reply += data.toString();
      // Integer and bulk replies are enough here: wait briefly for the rest of a multi-packet reply.
      setTimeout(() => { socket.destroy(); resolve(reply); }, 50);
    });
  });
}

export async function redisDbSize(): Promise<number> {
  return Number(/^:(\d+)/.exec(await redisCommand('DBSIZE'))?.[1] ?? Number.NaN);
}

/** Every key and value in the stack's Redis, as text (for leak checks). */
export async function redisDump(): Promise<string> {
  const keys = (await redisCommand('KEYS *')).split('\r\n').filter((line) => line && !/^[*$]/.test(line));
  let text = keys.join('\n');
  for (const key of keys) text += `\n${await redisCommand(`GET ${key}`)}`;
  return text;
}

/** Stops the stack's own redis-server (SIGTERM to its group) and waits until the port no longer answers. */
export async function stopRedis(): Promise<void> {
  const pid = pidOf('redis');
  if (pid === undefined) throw new Error('this stack did not start its own redis-server (state.json has no redis entry)');
  try { process.kill(-pid, 'SIGTERM'); } catch { /* already gone */ }
  const deadline = Date.now() + 10_000;
  while ((alive(pid) || await pingRedis()) && Date.now() < deadline) await sleep(100);
  if (await pingRedis()) throw new Error('redis-server still answers after SIGTERM');
}

/**
 * Starts redis-server again with the launcher's command line, detached in its own process group, and records the
 * new pid in state.json in place of the old one, so the stack's stop() (stopNative) stops it at the end of the run.
 */
export async function startRedis(): Promise<number> {
  const port = stack().ports.redis;
  const fd = openSync(logFile('redis'), 'a');
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  if (child.pid === undefined) throw new Error('could not start redis-server');
  child.unref();
  const state = readStateFile();
  const record = state?.processes.find((p) => p.service === 'redis');
  if (state && record) { record.pid = child.pid; writeFileSync(stateFile(), `${JSON.stringify(state, null, 2)}\n`); }
  const deadline = Date.now() + 10_000;
  while (!(await pingRedis()) && Date.now() < deadline) await sleep(100);
  if (!(await pingRedis())) throw new Error(`redis-server did not answer on port ${port}`);
  return child.pid;
}

/** Polls until check() is true or the time is up; returns whether it became true. */
export async function until(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(intervalMs);
  }
}
