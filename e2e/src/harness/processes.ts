// The stack's services, for the fault and log suites, whichever provider started them:
//   native   pids from .run/<name>/state.json (stack/src/native.ts): a service's whole process group is frozen with
//            SIGSTOP/SIGCONT; the stack's own redis-server is stopped and started again; logs are .run/<name>/logs.
//   compose  the project's containers (found by their compose labels): `docker pause`/`unpause` (the cgroup freezer,
//            the same fault as SIGSTOP), `docker stop`/`start`, `docker exec … redis-cli`, `docker logs`.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pingRedis as pingRedisAt, readState, runDir, type ServiceName } from '@sandbox/stack';
import { stack } from './stack.ts';

function stateFile(): string {
  return join(runDir(stack().name), 'state.json');
}

function readStateFile() {
  return readState(stack().name);
}

/** Whether this stack's processes can be signalled from here (native provider with a state file). */
export function canSignal(): boolean {
  return stack().provider === 'native' && readStateFile() !== undefined;
}

/** The compose project of the stack under test, when the compose provider started it. */
function composeProject(): string | undefined {
  return stack().provider === 'compose' ? stack().composeProject : undefined;
}

/** Whether the fault suites can freeze, stop and restart this stack's services (either provider). */
export function canControl(): boolean {
  return canSignal() || composeProject() !== undefined;
}

function docker(args: string[], what: string): string {
  const result = spawnSync('docker', args, { encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0)
    throw new Error(
      `${what}: docker ${args.join(' ')} exited ${result.status}: ${(result.stderr || String(result.error)).trim()}`,
    );
  return result.stdout;
}

/** The container of a compose service, found by the labels compose puts on it. */
export function containerOf(service: ServiceName): string {
  const project = composeProject();
  if (!project) throw new Error('containerOf: the stack under test was not started by the compose provider');
  const id = docker(
    [
      'ps',
      '-a',
      '-q',
      '--filter',
      `label=com.docker.compose.project=${project}`,
      '--filter',
      `label=com.docker.compose.service=${service}`,
    ],
    `find ${service}`,
  )
    .trim()
    .split('\n')[0];
  if (!id) throw new Error(`no container for service ${service} in compose project ${project}`);
  return id;
}

/** The service's log so far: its log file (native) or `docker logs` (compose, stdout and stderr). */
export function serviceLog(service: ServiceName): { where: string; text: string } {
  if (composeProject()) {
    const result = spawnSync('docker', ['logs', containerOf(service)], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    return { where: `docker logs (${service})`, text: `${result.stdout}${result.stderr}` };
  }
  const file = logFile(service);
  return { where: file, text: existsSync(file) ? readFileSync(file, 'utf8') : '' };
}

export function pidOf(service: ServiceName): number | undefined {
  return readStateFile()?.processes.find((p) => p.service === service)?.pid;
}

export function logFile(service: ServiceName): string {
  return join(runDir(stack().name), 'logs', `${service}.log`);
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(service: ServiceName, signal: NodeJS.Signals): void {
  const pid = pidOf(service);
  if (pid === undefined) throw new Error(`no ${service} process recorded for stack ${stack().name}`);
  // Each service runs in its own process group (detached spawn): signal the group, so kc.sh's java child stops too.
  process.kill(-pid, signal);
}

/** Freezes a service (SIGSTOP to its process group, or `docker pause`): it keeps its sockets but answers nothing. */
export function pause(service: ServiceName): void {
  if (composeProject()) docker(['pause', containerOf(service)], `pause ${service}`);
  else signalGroup(service, 'SIGSTOP');
}
export function resume(service: ServiceName): void {
  if (composeProject()) docker(['unpause', containerOf(service)], `unpause ${service}`);
  else signalGroup(service, 'SIGCONT');
}

/** Stops a compose service's container (connections refused from then on, unlike pause). */
export function stopContainer(service: ServiceName): void {
  docker(['stop', '--time', '10', containerOf(service)], `stop ${service}`);
}

/** Starts a stopped compose service's container again and waits until Docker calls it healthy. */
export async function startContainer(service: ServiceName, timeoutMs = 180_000): Promise<void> {
  const id = containerOf(service);
  docker(['start', id], `start ${service}`);
  const healthy = await until(
    async () =>
      docker(['inspect', '--format', '{{.State.Health.Status}}', id], `inspect ${service}`).trim() === 'healthy',
    timeoutMs,
    1000,
  );
  if (!healthy) throw new Error(`${service} was not healthy within ${timeoutMs / 1000} s of docker start`);
}

/** Runs fn with the service frozen; always resumes it. */
export async function whilePaused<T>(service: ServiceName, fn: () => Promise<T>): Promise<T> {
  pause(service);
  try {
    return await fn();
  } finally {
    resume(service);
  }
}

/** Whether the stack's Redis answers PING (the launcher's own probe; inside the container for compose). */
export async function pingRedis(port = stack().ports.redis, timeoutMs = 500): Promise<boolean> {
  if (!composeProject()) return pingRedisAt(port, '127.0.0.1', timeoutMs);
  const result = spawnSync('docker', ['exec', containerOf('redis'), 'redis-cli', 'ping'], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  return result.status === 0 && result.stdout.trim() === 'PONG';
}

/** compose: Redis is not published to the host, so commands go through redis-cli inside its container. */
function redisCli(args: string[]): string {
  return docker(['exec', containerOf('redis'), 'redis-cli', ...args], `redis-cli ${args[0]}`);
}

/** Sends one inline command to the stack's Redis and returns the raw reply. */
export function redisCommand(command: string, port = stack().ports.redis): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let reply = '';
    socket.setTimeout(2000, () => {
      socket.destroy();
      reject(new Error(`redis ${command}: timeout`));
    });
    socket.once('error', reject);
    socket.once('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (data) => {
      reply += data.toString();
      // Integer and bulk replies are enough here: wait briefly for the rest of a multi-packet reply.
      setTimeout(() => {
        socket.destroy();
        resolve(reply);
      }, 50);
    });
  });
}

export async function redisDbSize(): Promise<number> {
  if (composeProject()) return Number(/\d+/.exec(redisCli(['DBSIZE']))?.[0] ?? Number.NaN);
  return Number(/^:(\d+)/.exec(await redisCommand('DBSIZE'))?.[1] ?? Number.NaN);
}

/** Every key and value in the stack's Redis, as text (for leak checks). */
export async function redisDump(): Promise<string> {
  if (composeProject()) {
    const keys = redisCli(['KEYS', '*']).split('\n').filter(Boolean);
    return [keys.join('\n'), ...keys.map((key) => redisCli(['GET', key]))].join('\n');
  }
  const keys = (await redisCommand('KEYS *')).split('\r\n').filter((line) => line && !/^[*$]/.test(line));
  let text = keys.join('\n');
  for (const key of keys) text += `\n${await redisCommand(`GET ${key}`)}`;
  return text;
}

/** Stops the stack's own redis-server (SIGTERM to its group) and waits until the port no longer answers; compose: `docker stop`. */
export async function stopRedis(): Promise<void> {
  if (composeProject()) {
    stopContainer('redis');
    return;
  }
  const pid = pidOf('redis');
  if (pid === undefined)
    throw new Error('this stack did not start its own redis-server (state.json has no redis entry)');
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    /* already gone */
  }
  const deadline = Date.now() + 10_000;
  while ((alive(pid) || (await pingRedis())) && Date.now() < deadline) await sleep(100);
  if (await pingRedis()) throw new Error('redis-server still answers after SIGTERM');
}

/**
 * Starts redis-server again with the launcher's command line, detached in its own process group, and records the
 * new pid in state.json in place of the old one, so the stack's stop() (stopNative) stops it at the end of the run.
 * compose: `docker start` of the stopped container, waiting for its healthcheck.
 */
export async function startRedis(): Promise<void> {
  if (composeProject()) {
    await startContainer('redis', 30_000);
    return;
  }
  const port = stack().ports.redis;
  const fd = openSync(logFile('redis'), 'a');
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { detached: true, stdio: ['ignore', fd, fd] },
  );
  closeSync(fd);
  if (child.pid === undefined) throw new Error('could not start redis-server');
  child.unref();
  const state = readStateFile();
  const record = state?.processes.find((p) => p.service === 'redis');
  if (state && record) {
    record.pid = child.pid;
    writeFileSync(stateFile(), `${JSON.stringify(state, null, 2)}\n`);
  }
  const deadline = Date.now() + 10_000;
  while (!(await pingRedis()) && Date.now() < deadline) await sleep(100);
  if (!(await pingRedis())) throw new Error(`redis-server did not answer on port ${port}`);
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
