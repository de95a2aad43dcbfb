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
    });
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
  });
});
