// Reads docker-compose.yml the way the static checks need it (test helper for compose.test.ts and
// dockerfiles.test.ts): typed services, interpolation with an empty environment, ports, healthcheck argv.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from './paths.ts';
import { DEFAULT_PORTS, urlsFor } from './spec.ts';

// The parts of the Compose format this file uses; anything else is caught by the schema test.
export interface Healthcheck {
  test?: string | string[];
  disable?: boolean;
  interval?: string;
  timeout?: string;
  retries?: number;
}
export interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  volumes?: Array<string | { type?: string; source?: string; target?: string; read_only?: boolean }>;
  ports?: Array<string | number | { host_ip?: string; published?: string | number; target?: number }>;
  healthcheck?: Healthcheck;
  depends_on?: string[] | Record<string, { condition?: string }>;
  networks?: string[] | Record<string, { aliases?: string[] } | null>;
}
export interface ComposeFile {
  services: Record<string, Service>;
  networks?: Record<string, { ipam?: { config?: Array<{ subnet?: string; gateway?: string }> } } | null>;
}

export const composePath = join(repoRoot, 'docker-compose.yml');
export const raw = readFileSync(composePath, 'utf8');
export const compose = parse(raw) as ComposeFile;
export const SERVICES = ['keycloak', 'redis', 'stock-api', 'mcp-server', 'client-docs', 'approval-device'] as const;
export const urls = urlsFor(DEFAULT_PORTS);

export function service(name: string): Service {
  const found = compose.services[name];
  assert.ok(found, `docker-compose.yml has no service "${name}"`);
  return found;
}

/** Compose interpolation as `docker compose` applies it with an empty environment: `$$` → `$`, `${X:-d}` → d. */
export function interpolate(value: string): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match, braced?: string, fallback?: string, bare?: string) => {
      if (match === '$$') return '$';
      if (fallback !== undefined) return fallback;
      throw new Error(
        `docker-compose.yml uses \${${braced ?? bare}} without a default; the stack must start with no .env`,
      );
    },
  );
}

export function environment(name: string): Record<string, string> {
  const env = service(name).environment ?? {};
  assert.ok(!Array.isArray(env), `${name}: write environment as a map, so keys can be checked`);
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, interpolate(String(value ?? ''))]));
}

export function commandArgs(name: string): string[] {
  const command = service(name).command;
  return Array.isArray(command) ? command.map(String) : (command ?? '').split(/\s+/).filter(Boolean);
}

export interface PortBinding {
  hostIp: string | undefined;
  published: number;
  target: number;
}
export function ports(name: string): PortBinding[] {
  return (service(name).ports ?? []).map((port) => {
    if (typeof port === 'object')
      return { hostIp: port.host_ip, published: Number(port.published), target: Number(port.target) };
    const parts = String(port).split(':');
    const target = Number(parts.pop());
    const published = Number(parts.pop() ?? target);
    return { hostIp: parts.length > 0 ? parts.join(':') : undefined, published, target };
  });
}

export function healthcheckArgv(name: string): string[] {
  const test = service(name).healthcheck?.test;
  assert.ok(test, `${name} has no healthcheck test`);
  const list = typeof test === 'string' ? ['CMD-SHELL', test] : test.map((part) => interpolate(String(part)));
  const [kind, ...rest] = list;
  if (kind === 'CMD-SHELL') return ['/bin/sh', '-c', rest.join(' ')];
  assert.equal(kind, 'CMD', `${name}: healthcheck test must start with CMD or CMD-SHELL`);
  return rest;
}
