/**
 * The example SaaS application: a small web app with its own PostgreSQL schema that takes part in orgadmin's runs.
 *
 * - `POST /orgadmin/hooks` receives orgadmin's hooks and lifecycle events (docs/hooks-and-events.md), verified with
 *   the `standardwebhooks` package, and keeps its `organizations` table in step with them.
 * - `GET /` lists the organizations; `GET /login?organization=<name>` and `GET /callback` sign a member in through
 *   Auth0 organization login.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { createAdaptorServer } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { Webhook } from 'standardwebhooks';

import { openAppDatabase, type AppOrganization, type ReceivedEvent } from './app-database.js';
import { createFaults, type Fault } from './faults.js';
import { handleMessage } from './message-handler.js';
import { messageOrgName, messageType, MessageShapeError, parseMessage } from './messages.js';
import { createOrganizationLogin, LoginError, type Auth0Client } from './organization-login.js';
import { messagePage, organizationsPage, signedInPage } from './pages.js';
import { DEFAULT_SCHEMA } from './schema.js';

export type { AppOrganization, Auth0Client, Fault, ReceivedEvent };

export interface SaasAppOptions {
  /** The app's database; the app keeps its tables in a schema of its own there. */
  databaseUrl: string;
  /** Default `saas_app`. */
  schema?: string;
  /** The `whsec_…` secret orgadmin signs its messages with (`orgadmin hooks add … --secret`). */
  hookSecret: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** The Auth0 application for organization login; may be set later with `useAuth0`. */
  auth0?: Auth0Client;
  /** Enables `injectFault` and `setDown` (tests only). */
  faults?: boolean;
  log?: (line: string) => void;
}

/** One request to the hook endpoint that passed the signature check, and what the app answered. */
export interface HookCall {
  webhookId: string;
  /** The message type, or `(unreadable)` for a body that is not a JSON message. */
  type: string;
  /** `data.organization.name`, when the message has one. */
  orgName?: string;
  status: number;
  at: Date;
}

export interface SaasApp {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `${url}/orgadmin/hooks`: one endpoint for hooks and events. */
  hookUrl: string;
  useAuth0(client: Auth0Client): void;
  /** The rows of the app's organizations table. */
  organizations(): Promise<AppOrganization[]>;
  /** Lifecycle events in arrival order, each webhook-id once. */
  eventsReceived(): Promise<ReceivedEvent[]>;
  /** Every signed request to the hook endpoint in arrival order, repeats included. */
  hookCalls(): Promise<HookCall[]>;
  /** Answers the next `times` matching messages with `status` (only with `faults: true`). */
  injectFault(fault: Fault): void;
  /** While down, every signed request to the hook endpoint gets 503 and nothing is processed (`faults: true`). */
  setDown(down: boolean): void;
  close(): Promise<void>;
}

export const HOOK_PATH = '/orgadmin/hooks';
const MAX_MESSAGE_BYTES = 1024 * 1024;
const LOGIN_COOKIE = 'saas_app_login';

export async function startSaasApp(options: SaasAppOptions): Promise<SaasApp> {
  const log = options.log ?? (() => undefined);
  let webhook: Webhook;
  try {
    webhook = new Webhook(options.hookSecret);
  } catch (error) {
    throw new Error('hookSecret must be a Standard Webhooks secret: whsec_ followed by base64', {
      cause: error,
    });
  }
  const faults = createFaults(options.faults ?? false);
  const login = createOrganizationLogin();
  if (options.auth0) login.use(options.auth0);
  const calls: HookCall[] = [];
  const db = await openAppDatabase({
    databaseUrl: options.databaseUrl,
    schema: options.schema ?? DEFAULT_SCHEMA,
    log,
  });
  // Known once the server listens (the port may be chosen by the system).
  let url = '';
  const signInUrlFor = (orgName: string): string =>
    `${url}/login?organization=${encodeURIComponent(orgName)}`;

  const app = new Hono();

  app.post(
    HOOK_PATH,
    bodyLimit({
      maxSize: MAX_MESSAGE_BYTES,
      onError: (c) => c.json({ error: `messages are limited to ${MAX_MESSAGE_BYTES} bytes` }, 413),
    }),
    async (c) => {
      // The signature covers the exact bytes sent, so verify those before reading anything from them.
      const raw = Buffer.from(await c.req.arrayBuffer());
      const webhookId = c.req.header('webhook-id') ?? '';
      try {
        webhook.verify(
          raw,
          {
            'webhook-id': webhookId,
            'webhook-timestamp': c.req.header('webhook-timestamp') ?? '',
            'webhook-signature': c.req.header('webhook-signature') ?? '',
          },
          { jsonParse: false },
        );
      } catch (error) {
        log(`refused an unsigned or badly signed message (${messageOf(error)})`);
        return json(401, { error: `signature check failed: ${messageOf(error)}` });
      }

      let body: unknown;
      let notJson = false;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        notJson = true;
      }
      const type = messageType(body) ?? '(unreadable)';
      const orgName = messageOrgName(body);
      const answer = (status: number, answerBody: Record<string, unknown>, note = ''): Response => {
        calls.push({
          webhookId,
          type,
          ...(orgName === undefined ? {} : { orgName }),
          status,
          at: new Date(),
        });
        log(`${type} ${webhookId} → ${status}${note}`);
        return json(status, answerBody);
      };

      if (faults.down) return answer(503, { error: 'the app is down (fault injection)' });
      if (notJson) return answer(400, { error: 'the body is not JSON' });
      const fault = faults.take(type);
      if (fault && !fault.afterProcessing) {
        return answer(fault.status, { error: 'injected fault' }, ' (injected, nothing done)');
      }
      try {
        const message = parseMessage(body);
        const handled = await handleMessage(db, webhookId, message, signInUrlFor);
        if (fault) {
          return answer(
            fault.status,
            { error: 'injected fault' },
            ' (injected after the work was committed)',
          );
        }
        return answer(handled.status, handled.body, handled.repeated ? ' (repeat: stored answer)' : '');
      } catch (error) {
        if (error instanceof MessageShapeError) return answer(400, { error: error.message });
        // Anything else (say, the database is down) is worth a retry: orgadmin retries 5xx answers.
        log(`${type} ${webhookId}: ${messageOf(error)}`);
        return answer(500, { error: 'the app could not process this message now; retry later' });
      }
    },
  );

  app.get('/', async (c) => c.html(organizationsPage(await db.organizations(), login.configured)));

  app.get('/login', async (c) => {
    const wanted = c.req.query('organization');
    if (!wanted) {
      return page(
        c,
        400,
        'Which organization?',
        'Open /login?organization=<organization name>, or pick an organization on the home page.',
      );
    }
    const org = await db.findOrganization(wanted);
    if (!org) return page(c, 404, 'Unknown organization', `This app has no organization "${wanted}".`);
    if (org.state !== 'ready' || !org.auth0OrgId) {
      return page(
        c,
        409,
        'Not ready yet',
        `${org.displayName} is still being provisioned; try again shortly.`,
      );
    }
    const { location, state } = await login.start(
      { orgName: org.orgName, auth0OrgId: org.auth0OrgId },
      `${url}/callback`,
      c.req.query('invitation'),
    );
    setCookie(c, LOGIN_COOKIE, state, {
      path: '/callback',
      httpOnly: true,
      sameSite: 'Lax',
      secure: url.startsWith('https:'),
      maxAge: 600,
    });
    return c.redirect(location.href, 302);
  });

  app.get('/callback', async (c) => {
    // The URL as registered with Auth0 (not as the Host header says): openid-client compares it to redirect_uri.
    const callback = new URL(`${url}/callback${new URL(c.req.url).search}`);
    const cookieState = getCookie(c, LOGIN_COOKIE);
    deleteCookie(c, LOGIN_COOKIE, { path: '/callback' });
    const signedIn = await login.finish(callback, cookieState);
    const org = await db.findOrganization(signedIn.auth0OrgId);
    if (!org || org.auth0OrgId !== signedIn.auth0OrgId) {
      return page(c, 404, 'Unknown organization', `This app knows no organization ${signedIn.auth0OrgId}.`);
    }
    return c.html(signedInPage(org.displayName, signedIn.email));
  });

  app.notFound((c) => page(c, 404, 'Not found', `Nothing at ${c.req.path}.`));

  app.onError((error, c) => {
    if (error instanceof LoginError) return page(c, error.status, error.title, error.message);
    log(`${c.req.method} ${c.req.path}: ${messageOf(error)}`);
    return page(c, 500, 'Something went wrong', 'The app could not answer this request; see its log.');
  });

  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  const host = options.host ?? '127.0.0.1';
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => resolve());
    });
  } catch (error) {
    await db.close();
    throw new Error(`the SaaS app cannot listen on ${host}:${options.port ?? 0}`, { cause: error });
  }
  url = `http://${urlHost(host)}:${(server.address() as AddressInfo).port}`;

  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    await new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
    await db.close();
  };

  return {
    url,
    hookUrl: `${url}${HOOK_PATH}`,
    useAuth0: (client) => login.use(client),
    organizations: () => db.organizations(),
    eventsReceived: () => db.eventsReceived(),
    hookCalls: () => Promise.resolve(calls.map((call) => ({ ...call }))),
    injectFault: (fault) => faults.inject(fault),
    setDown: (down) => faults.setDown(down),
    close: () => (closing ??= close()),
  };
}

function json(status: number, body: Record<string, unknown>): Response {
  const empty = status === 204 || status === 205 || status === 304;
  return new Response(empty ? null : JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}

function page(
  c: Context,
  status: ContentfulStatusCode,
  title: string,
  text: string,
): Response | Promise<Response> {
  return c.html(messagePage(title, text), status);
}

/** A host as it goes in a URL: a wildcard address is reached on loopback, an IPv6 address in brackets. */
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
