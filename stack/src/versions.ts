// The single Keycloak pin (keycloak/version.json), read by the native launcher, the compose check and the docs test.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { versionFile } from './paths.ts';

const VersionFile = z.object({
  keycloak: z.string().regex(/^\d+\.\d+\.\d+$/, 'keycloak must be a version like 26.7.3'),
  sha1: z.string().regex(/^[0-9a-f]{40}$/, 'sha1 must be 40 hex digits'),
});

export const pins = Object.freeze(VersionFile.parse(JSON.parse(readFileSync(versionFile, 'utf8'))));
