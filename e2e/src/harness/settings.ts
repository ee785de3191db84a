// The e2e harness's environment, parsed once (zod): the stack under test, handed over by scripts/run-tests.ts in
// SANDBOX_STACK, and where Chromium lives. Nothing else in e2e/ or bench/ reads process.env.
import { z } from 'zod';

const url = z.string().regex(/^(https?|redis):\/\//);
const port = z.number().int().min(1).max(65535);

export const StackUnderTestSchema = z.object({
  provider: z.enum(['native', 'compose']),
  name: z.string().min(1),
  urls: z.object({
    keycloak: url,
    issuer: url,
    keycloakManagement: url,
    mcp: url,
    mcpOrigin: url,
    stockApi: url,
    redis: url,
    clientDocs: url,
    approvalDevice: url,
  }),
  ports: z.object({
    keycloak: port,
    keycloakManagement: port,
    mcp: port,
    stockApi: port,
    redis: port,
    clientDocs: port,
    approvalDevice: port,
  }),
  /** compose provider: the project name, so the fault suites can find its containers. */
  composeProject: z.string().min(1).optional(),
});
export type StackUnderTest = z.infer<typeof StackUnderTestSchema>;

const EnvSchema = z.object({
  SANDBOX_STACK: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (!raw) return undefined;
      try {
        return StackUnderTestSchema.parse(JSON.parse(raw));
      } catch (error) {
        ctx.addIssue({
          code: 'custom',
          message: `"SANDBOX_STACK" must be the JSON scripts/run-tests.ts passes: ${(error as Error).message}`,
        });
        return z.NEVER;
      }
    }),
  CHROMIUM_PATH: z.string().min(1).default('/usr/bin/chromium'),
  /** Handed to the real clients the interop suite spawns (they start node and a browser opener from it). */
  PATH: z.string().min(1).default('/usr/local/bin:/usr/bin:/bin'),
  BENCH_PORT_OFFSET: z.coerce.number().int().min(0).max(10_000).default(0),
});

export const harnessSettings = Object.freeze(EnvSchema.parse(process.env));
