import { describe, expect, it } from 'vitest';

import { ConfigError, DEFAULT_AUTH0_LOCAL_PORT, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('defaults to the embedded database and auth0-local under ./.orgadmin', () => {
    const config = loadConfig({}, '/srv/app');
    expect(config).toEqual({
      home: '/srv/app/.orgadmin',
      databaseUrl: undefined,
      auth0: undefined,
      auth0Local: { port: DEFAULT_AUTH0_LOCAL_PORT, rateLimits: 'enterprise' },
      secretKey: undefined,
      rateLimits: 'enterprise',
      urlBatchMaxWaitMs: 30_000,
      portal: {
        host: '127.0.0.1',
        port: 3000,
        publicUrl: 'http://127.0.0.1:3000',
        publicUrlConfigured: false,
        oidc: undefined,
        apiAudience: 'https://orgadmin.local/api',
        rolesClaim: 'https://orgadmin.dev/roles',
        sessionIdleMinutes: 30,
        sessionMaxHours: 12,
        reauthMinutes: 5,
      },
      rateLimitTimeScale: 1,
      metricsToken: undefined,
      mode: 'live',
      gitops: undefined,
      events: {
        retryBaseMs: 2000,
        retryMaxMs: 900_000,
        disableAfterFailures: 50,
        disableAfterMs: 86_400_000,
      },
    });
  });

  it('reads the portal settings and refuses half an OpenID provider', () => {
    const config = loadConfig(
      {
        HOST: '0.0.0.0',
        PORT: '8080',
        PORTAL_ISSUER: 'https://login.acme.test/',
        PORTAL_CLIENT_ID: 'portal',
        PORTAL_CLIENT_SECRET: 's3cret',
        PORTAL_REAUTH_MINUTES: '2',
      },
      '/',
    );
    expect(config.portal).toMatchObject({
      host: '0.0.0.0',
      port: 8080,
      publicUrl: 'http://127.0.0.1:8080',
      oidc: { issuer: 'https://login.acme.test/', clientId: 'portal', clientSecret: 's3cret' },
      reauthMinutes: 2,
    });
    expect(() => loadConfig({ PORTAL_ISSUER: 'https://login.acme.test/' }, '/')).toThrow(
      /PORTAL_ISSUER, PORTAL_CLIENT_ID and PORTAL_CLIENT_SECRET must be set together/,
    );
    expect(() => loadConfig({ PORTAL_URL: 'https://portal.acme.test/admin' }, '/')).toThrow(
      /PORTAL_URL must have no path/,
    );
    expect(() => loadConfig({ PORTAL_REAUTH_MINUTES: '0' }, '/')).toThrow(
      /PORTAL_REAUTH_MINUTES must be greater than 0/,
    );
  });

  it('takes a real tenant only when all three AUTH0_* variables are set', () => {
    const config = loadConfig(
      {
        AUTH0_DOMAIN: 'acme.eu.auth0.com',
        AUTH0_CLIENT_ID: 'id',
        AUTH0_CLIENT_SECRET: 'secret',
        ORGADMIN_HOME: '/var/orgadmin',
      },
      '/srv/app',
    );
    expect(config.auth0).toEqual({ domain: 'acme.eu.auth0.com', clientId: 'id', clientSecret: 'secret' });
    expect(config.home).toBe('/var/orgadmin');
    expect(() => loadConfig({ AUTH0_DOMAIN: 'acme.eu.auth0.com' }, '/')).toThrow(ConfigError);
  });

  it('names the variable and the rule for a bad value', () => {
    expect(() => loadConfig({ AUTH0_LOCAL_PORT: '70000' }, '/')).toThrow(
      /AUTH0_LOCAL_PORT must be between 0 and 65535/,
    );
    expect(() => loadConfig({ AUTH0_LOCAL_PORT: 'abc' }, '/')).toThrow(/AUTH0_LOCAL_PORT/);
    expect(() => loadConfig({ EVENTS_DISABLE_AFTER_FAILURES: '2.5' }, '/')).toThrow(
      /EVENTS_DISABLE_AFTER_FAILURES must be an integer/,
    );
    expect(() => loadConfig({ ORGADMIN_URL_BATCH_WAIT_SECONDS: '-1' }, '/')).toThrow(
      /ORGADMIN_URL_BATCH_WAIT_SECONDS must be 0 \(no batching\) or more/,
    );
    expect(loadConfig({ ORGADMIN_URL_BATCH_WAIT_SECONDS: '0' }, '/').urlBatchMaxWaitMs).toBe(0);
    expect(loadConfig({ ORGADMIN_URL_BATCH_WAIT_SECONDS: '2.5' }, '/').urlBatchMaxWaitMs).toBe(2500);
  });

  it('takes GitOps mode only with a repository', () => {
    expect(loadConfig({ ORGADMIN_MODE: 'gitops', ORGADMIN_GITOPS_REPO: '/srv/orgs.git' }, '/')).toMatchObject(
      {
        mode: 'gitops',
        gitops: { repository: '/srv/orgs.git', branch: 'main', env: 'default' },
      },
    );
    expect(() => loadConfig({ ORGADMIN_MODE: 'gitops' }, '/')).toThrow(/ORGADMIN_GITOPS_REPO must be set/);
    expect(() => loadConfig({ ORGADMIN_MODE: 'git' }, '/')).toThrow(/ORGADMIN_MODE must be live or gitops/);
    expect(() => loadConfig({ ORGADMIN_GITOPS_REPO: '/r', ORGADMIN_GITOPS_ENV: 'Prod!' }, '/')).toThrow(
      /ORGADMIN_GITOPS_ENV must be lowercase/,
    );
  });

  it('reads event delivery settings in seconds and hours', () => {
    expect(
      loadConfig(
        {
          EVENTS_RETRY_BASE_SECONDS: '0.05',
          EVENTS_RETRY_MAX_SECONDS: '1',
          EVENTS_DISABLE_AFTER_FAILURES: '3',
          EVENTS_DISABLE_AFTER_HOURS: '0.001',
        },
        '/',
      ).events,
    ).toEqual({ retryBaseMs: 50, retryMaxMs: 1000, disableAfterFailures: 3, disableAfterMs: 3600 });
  });
});
