/**
 * The portal inside a test file: orgadmin on the file's database, provisioning into the file's auth0-local, the
 * portal listening on a free port with an in-process worker; plus operator sessions for each role, made exactly as
 * a sign-in makes them (the sign-in flow itself is tested through auth0-local's pages in its own file).
 */
import { createPostgresSessions } from '../../src/adapters/postgres/postgres-sessions.js';
import { openOrgadmin, startPortal, type Orgadmin, type Portal } from '../../src/composition-root.js';
import { loadConfig } from '../../src/config/config.js';
import type { Role } from '../../src/domain/roles.js';
import { orgadminHomeFor, type TestAuth0Local } from './auth0-local.js';
import type { TestDatabase } from './database.js';

export interface TestPortal {
  orgadmin: Orgadmin;
  portal: Portal;
  url: string;
  home: string;
  close(): Promise<void>;
}

export async function startTestPortal(
  local: TestAuth0Local,
  database: TestDatabase,
  options: { web?: boolean; worker?: boolean; env?: Record<string, string> } = {},
): Promise<TestPortal> {
  const home = orgadminHomeFor(local, 'orgadmin-portal-');
  const config = loadConfig(
    {
      ORGADMIN_HOME: home,
      DATABASE_URL: database.url,
      ORGADMIN_SECRET_KEY: 'test-secret-key',
      PORT: '0',
      ...options.env,
    },
    process.cwd(),
  );
  const orgadmin = await openOrgadmin(config);
  try {
    const portal = await startPortal(orgadmin, {
      // TEST_PORTAL_LOG=1 shows the server's log (e.g. an internal error's stack) while debugging a test.
      log: (line) => {
        if (process.env['TEST_PORTAL_LOG']) process.stderr.write(`${line}\n`);
      },
      web: options.web ?? false,
      ...(options.worker === false ? {} : { worker: { concurrency: 2 } }),
    });
    return {
      orgadmin,
      portal,
      url: portal.url,
      home,
      async close() {
        await portal.close();
        await orgadmin.close();
      },
    };
  } catch (error) {
    await orgadmin.close();
    throw error;
  }
}

export interface TestSession {
  /** The `cookie` request header. */
  cookie: string;
  csrfToken: string;
  email: string;
}

/** A session for an operator with these roles, signed in `signedInMinutesAgo` minutes ago (default now). */
export async function sessionFor(
  orgadmin: Orgadmin,
  roles: Role[],
  options: { signedInMinutesAgo?: number; email?: string } = {},
): Promise<TestSession> {
  const email = options.email ?? `${roles.join('-') || 'nobody'}@test.example`;
  const { token, session } = await createPostgresSessions(orgadmin.database.pool).createSession({
    subject: `auth0|${email}`,
    email,
    name: email,
    roles,
    authTime: new Date(Date.now() - (options.signedInMinutesAgo ?? 0) * 60_000),
  });
  return { cookie: `orgadmin_session=${token}`, csrfToken: session.csrfToken, email };
}
