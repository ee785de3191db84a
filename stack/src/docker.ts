// Does a Docker engine answer? The client alone (as on these CI machines) is not enough.
import { spawnSync } from 'node:child_process';

export interface DockerStatus {
  available: boolean;
  reason: string;
}

export function dockerStatus(): DockerStatus {
  const result = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 8000 });
  if (result.error) return { available: false, reason: `docker client not found (${result.error.message})` };
  if (result.status !== 0) {
    const why = (result.stderr || result.stdout).trim().split('\n').pop() ?? 'no answer';
    return { available: false, reason: `no Docker engine answers (${why})` };
  }
  return { available: true, reason: `Docker engine ${result.stdout.trim()}` };
}
