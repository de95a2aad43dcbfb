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

const positiveNumber = optionalText
  .transform((value) => (value === undefined ? undefined : Number(value)))
  .pipe(z.number({ error: 'must be a number' }).positive('must be greater than 0').optional());

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
  AUTH0_RATE_LIMITS_TIME_SCALE: positiveNumber,
  PORT: optionalText
    .transform((value) => (value === undefined ? undefined : Number(value)))
    .pipe(port.optional()),
  HOST: optionalText,
  PORTAL_URL: optionalText.pipe(
    z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
      .refine((value) => !new URL(value).pathname.slice(1), 'must have no path (the portal is served at /)')
      .optional(),
  ),
  PORTAL_ISSUER: optionalText.pipe(z.url({ protocol: /^https$/, error: 'must be an https URL' }).optional()),
  PORTAL_CLIENT_ID: optionalText,
  PORTAL_CLIENT_SECRET: optionalText,
  PORTAL_API_AUDIENCE: optionalText,
  PORTAL_ROLES_CLAIM: optionalText,
  PORTAL_SESSION_IDLE_MINUTES: positiveNumber,
  PORTAL_SESSION_MAX_HOURS: positiveNumber,
  PORTAL_REAUTH_MINUTES: positiveNumber,
  METRICS_TOKEN: optionalText.pipe(
    z.string().min(16, 'must be at least 16 characters (a random token)').optional(),
  ),
  EVENTS_RETRY_BASE_SECONDS: positiveNumber,
  EVENTS_RETRY_MAX_SECONDS: positiveNumber,
  EVENTS_DISABLE_AFTER_FAILURES: positiveNumber.refine(
    (value) => value === undefined || Number.isInteger(value),
    'must be an integer',
  ),
  EVENTS_DISABLE_AFTER_HOURS: positiveNumber,
  ORGADMIN_URL_BATCH_WAIT_SECONDS: optionalText
    .transform((value) => (value === undefined ? undefined : Number(value)))
    .pipe(
      z
        .number({ error: 'must be a number' })
        .min(0, 'must be 0 (no batching) or more')
        .max(3600, 'must be at most 3600')
        .optional(),
    ),
  ORGADMIN_MODE: optionalText.pipe(
    z.enum(['live', 'gitops'], { error: 'must be live or gitops' }).optional(),
  ),
  ORGADMIN_GITOPS_REPO: optionalText,
  ORGADMIN_GITOPS_BRANCH: optionalText.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$/, 'must be a plain branch name')
      .optional(),
  ),
  ORGADMIN_GITOPS_ENV: optionalText.pipe(
    z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be lowercase letters, digits, "_" or "-" (at most 63)')
      .optional(),
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
  /** Multiplies the budget's refill rates, for an auth0-local that runs time-scaled (benchmarks); default 1. */
  rateLimitTimeScale: number;
  portal: PortalConfig;
  events: EventsConfig;
  /** Bearer token that unlocks `/metrics` (portal and `worker --metrics-port`); undefined = metrics not served. */
  metricsToken: string | undefined;
  /**
   * How long a run's change to a shared application's URL lists may wait for other runs' changes to that
   * application, to be written together (ms; 0: each run writes its own). Only while other runs will still change it.
   */
  urlBatchMaxWaitMs: number;
  /** `live`: changes are runs against Auth0. `gitops`: changes are commits to `gitops.repository`, deployed later. */
  mode: 'live' | 'gitops';
  gitops: GitopsConfig | undefined;
}

export interface GitopsConfig {
  /** A local path (usually a bare repository) or a git URL. */
  repository: string;
  branch: string;
  /** The name this installation's tenant has in the repository's deployments and keyword files. */
  env: string;
}

/** Delivery of lifecycle events to the application's hooks. */
export interface EventsConfig {
  retryBaseMs: number;
  retryMaxMs: number;
  /** A hook is disabled when this many deliveries failed in a row … */
  disableAfterFailures: number;
  /** … over at least this long. */
  disableAfterMs: number;
}

export interface PortalConfig {
  host: string;
  port: number;
  /** The URL browsers use to reach the portal (redirect URIs are built from it). */
  publicUrl: string;
  /** PORTAL_URL was given; otherwise the URL follows the port the portal actually listens on. */
  publicUrlConfigured: boolean;
  /** The OpenID provider operators sign in with; undefined = the auth0-local tenant `orgadmin start` runs. */
  oidc: { issuer: string; clientId: string; clientSecret: string } | undefined;
  /** The audience (API identifier) of Bearer access tokens for the portal's API. */
  apiAudience: string;
  /** The namespaced claim holding the operator's roles (added by an Auth0 Action in a real tenant). */
  rolesClaim: string;
  sessionIdleMinutes: number;
  sessionMaxHours: number;
  /** Removing an organization needs a sign-in at most this old. */
  reauthMinutes: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export const DEFAULT_AUTH0_LOCAL_PORT = 4443;
export const DEFAULT_PORTAL_PORT = 3000;
export const DEFAULT_API_AUDIENCE = 'https://orgadmin.local/api';
export const DEFAULT_ROLES_CLAIM = 'https://orgadmin.dev/roles';
/** Long enough for a bulk apply's runs on one application to share a write; an organization alone never waits. */
export const DEFAULT_URL_BATCH_WAIT_SECONDS = 30;

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
  const portalValues = [values.PORTAL_ISSUER, values.PORTAL_CLIENT_ID, values.PORTAL_CLIENT_SECRET];
  const portalGiven = portalValues.filter((value) => value !== undefined).length;
  if (portalGiven > 0 && portalGiven < 3) {
    throw new ConfigError(
      'invalid configuration: PORTAL_ISSUER, PORTAL_CLIENT_ID and PORTAL_CLIENT_SECRET must be set together (or none, to sign in through auth0-local)',
    );
  }
  const mode = values.ORGADMIN_MODE ?? 'live';
  if (mode === 'gitops' && !values.ORGADMIN_GITOPS_REPO) {
    throw new ConfigError(
      'invalid configuration: ORGADMIN_GITOPS_REPO must be set when ORGADMIN_MODE is gitops (a path or a git URL)',
    );
  }
  const host = values.HOST ?? '127.0.0.1';
  const portalPort = values.PORT ?? DEFAULT_PORTAL_PORT;
  const browserHost =
    host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
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
    rateLimitTimeScale: values.AUTH0_RATE_LIMITS_TIME_SCALE ?? 1,
    portal: {
      host,
      port: portalPort,
      publicUrl: (values.PORTAL_URL ?? `http://${browserHost}:${portalPort}`).replace(/\/$/, ''),
      publicUrlConfigured: values.PORTAL_URL !== undefined,
      oidc:
        portalGiven === 3
          ? {
              issuer: values.PORTAL_ISSUER!,
              clientId: values.PORTAL_CLIENT_ID!,
              clientSecret: values.PORTAL_CLIENT_SECRET!,
            }
          : undefined,
      apiAudience: values.PORTAL_API_AUDIENCE ?? DEFAULT_API_AUDIENCE,
      rolesClaim: values.PORTAL_ROLES_CLAIM ?? DEFAULT_ROLES_CLAIM,
      sessionIdleMinutes: values.PORTAL_SESSION_IDLE_MINUTES ?? 30,
      sessionMaxHours: values.PORTAL_SESSION_MAX_HOURS ?? 12,
      reauthMinutes: values.PORTAL_REAUTH_MINUTES ?? 5,
    },
    metricsToken: values.METRICS_TOKEN,
    urlBatchMaxWaitMs: (values.ORGADMIN_URL_BATCH_WAIT_SECONDS ?? DEFAULT_URL_BATCH_WAIT_SECONDS) * 1000,
    mode,
    gitops: values.ORGADMIN_GITOPS_REPO
      ? {
          repository: values.ORGADMIN_GITOPS_REPO,
          branch: values.ORGADMIN_GITOPS_BRANCH ?? 'main',
          env: values.ORGADMIN_GITOPS_ENV ?? 'default',
        }
      : undefined,
    events: {
      retryBaseMs: (values.EVENTS_RETRY_BASE_SECONDS ?? 2) * 1000,
      retryMaxMs: (values.EVENTS_RETRY_MAX_SECONDS ?? 900) * 1000,
      disableAfterFailures: values.EVENTS_DISABLE_AFTER_FAILURES ?? 50,
      disableAfterMs: (values.EVENTS_DISABLE_AFTER_HOURS ?? 24) * 3_600_000,
    },
  };
}
