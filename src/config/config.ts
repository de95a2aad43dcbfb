/**
 * orgadmin's configuration, parsed once from the environment (and CLI flags, which win) and passed down. Nothing
 * else in `src/` reads `process.env`. Every setting is listed in the README's configuration table.
 */
import { resolve } from 'node:path';

import { z } from 'zod';

const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const port = z
  .number({ error: 'must be a number' })
  .int('must be an integer')
  .min(0, 'must be between 0 and 65535')
  .max(65535, 'must be between 0 and 65535');

const environmentSchema = z.object({
  ORGADMIN_HOME: optionalText,
  DATABASE_URL: optionalText,
  AUTH0_DOMAIN: optionalText,
  AUTH0_CLIENT_ID: optionalText,
  AUTH0_CLIENT_SECRET: optionalText,
  AUTH0_LOCAL_PORT: optionalText
    .transform((value) => (value === undefined ? undefined : Number(value)))
    .pipe(port.optional()),
  AUTH0_LOCAL_RATE_LIMITS: optionalText,
  ORGADMIN_SECRET_KEY: optionalText,
  AUTH0_RATE_LIMITS: optionalText.pipe(
    z.enum(['free', 'self-service', 'enterprise', 'unlimited']).optional(),
  ),
});

export interface Auth0TenantConfig {
  domain: string;
  clientId: string;
  clientSecret: string;
}

export interface Config {
  /** State folder: embedded PostgreSQL, auth0-local state and certificates, generated keys. */
  home: string;
  /** An external PostgreSQL; when set nothing is embedded. */
  databaseUrl: string | undefined;
  /** A real Auth0 tenant; when unset, `orgadmin start` runs auth0-local instead. */
  auth0: Auth0TenantConfig | undefined;
  auth0Local: { port: number; rateLimits: string };
  /** Key that encrypts secrets at rest; generated into `<home>/secret.key` when unset. Never logged. */
  secretKey: string | undefined;
  /** The Auth0 plan whose published rate limits the client-side budget keeps to. */
  rateLimits: 'free' | 'self-service' | 'enterprise' | 'unlimited';
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export const DEFAULT_AUTH0_LOCAL_PORT = 4443;

/** Parses the environment; throws a ConfigError naming every bad variable and its rule. */
export function loadConfig(env: Record<string, string | undefined>, cwd: string): Config {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const values = parsed.data;
  const auth0Values = [values.AUTH0_DOMAIN, values.AUTH0_CLIENT_ID, values.AUTH0_CLIENT_SECRET];
  const given = auth0Values.filter((value) => value !== undefined).length;
  if (given > 0 && given < 3) {
    throw new ConfigError(
      'invalid configuration: AUTH0_DOMAIN, AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET must be set together (or none, to use auth0-local)',
    );
  }
  return {
    home: resolve(cwd, values.ORGADMIN_HOME ?? '.orgadmin'),
    databaseUrl: values.DATABASE_URL,
    auth0:
      given === 3
        ? {
            domain: values.AUTH0_DOMAIN!,
            clientId: values.AUTH0_CLIENT_ID!,
            clientSecret: values.AUTH0_CLIENT_SECRET!,
          }
        : undefined,
    auth0Local: {
      port: values.AUTH0_LOCAL_PORT ?? DEFAULT_AUTH0_LOCAL_PORT,
      rateLimits: values.AUTH0_LOCAL_RATE_LIMITS ?? 'enterprise',
    },
    secretKey: values.ORGADMIN_SECRET_KEY,
    // Against auth0-local the budget follows the profile auth0-local runs with; against Auth0, the plan given.
    rateLimits:
      values.AUTH0_RATE_LIMITS ??
      (given === 3
        ? 'enterprise'
        : ((values.AUTH0_LOCAL_RATE_LIMITS ?? 'enterprise') as Config['rateLimits'])),
  };
}
