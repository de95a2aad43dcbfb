/** Starting auth0-local inside a test file, with the CA the global setup made trusted, and an SDK client for it. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ManagementClient } from 'auth0';
import { afterAll, beforeAll, inject } from 'vitest';

import { startAuth0Local, type StartAuth0LocalOptions } from '../../auth0-local/index.js';

export type TestAuth0Local = Awaited<ReturnType<typeof startAuth0Local>>;

export function startTestAuth0Local(options: StartAuth0LocalOptions = {}): Promise<TestAuth0Local> {
  return startAuth0Local({ tlsDir: inject('auth0LocalTlsDir'), log: () => undefined, ...options });
}

/** The official SDK, configured exactly as a user would configure it for a real tenant. */
export function managementClient(
  local: { domain: string; clientId: string; clientSecret: string },
  options: { maxRetries?: number } = {},
): ManagementClient {
  return new ManagementClient({
    domain: local.domain,
    clientId: local.clientId,
    clientSecret: local.clientSecret,
    ...options,
  });
}

/** Reads a rejected SDK call's HTTP status and parsed body. */
export async function failure(promise: Promise<unknown>): Promise<{ statusCode: number; body: unknown }> {
  try {
    await promise;
  } catch (error) {
    const { statusCode, body } = error as { statusCode: number; body: unknown };
    return { statusCode, body };
  }
  throw new Error('expected the call to fail');
}

/**
 * A caller of auth0-local's admin API (`/__admin`) with its admin token. It reads `local` at each call, so it can be
 * made from `useAuth0Local()`'s handle before the instance has started.
 */
export function adminApi(local: {
  domain: string;
  adminToken: string;
}): (method: string, path: string, body?: unknown) => Promise<{ status: number; json: unknown }> {
  return async (method, path, body) => {
    const response = await fetch(`https://${local.domain}/__admin${path}`, {
      method,
      headers: { authorization: `Bearer ${local.adminToken}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, json: text ? (JSON.parse(text) as unknown) : undefined };
  };
}

/**
 * A fresh orgadmin state folder whose `auth0-local/connection.json` points at `local`, as `orgadmin start` leaves it,
 * so orgadmin processes started by a test provision into that auth0-local.
 */
export function orgadminHomeFor(local: TestAuth0Local, prefix = 'orgadmin-home-'): string {
  const home = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(home, 'auth0-local'), { recursive: true });
  const { domain, clientId, clientSecret, caCertPath, adminToken, name } = local;
  writeFileSync(
    join(home, 'auth0-local', 'connection.json'),
    JSON.stringify({ domain, clientId, clientSecret, caCertPath, adminToken, tenantName: name }),
  );
  return home;
}

/**
 * One auth0-local for a whole test file: started before its tests, closed after them. The returned handle stands
 * for the running instance (it forwards to it), so tests read `local.domain` as with a started one.
 */
export function useAuth0Local(
  options: StartAuth0LocalOptions | (() => StartAuth0LocalOptions) = {},
): TestAuth0Local {
  let started: TestAuth0Local | undefined;
  beforeAll(async () => {
    started = await startTestAuth0Local(typeof options === 'function' ? options() : options);
  });
  afterAll(async () => {
    await started?.close();
  });
  return new Proxy({} as TestAuth0Local, {
    get(_target, property) {
      if (!started) throw new Error('auth0-local is used before the test file started it');
      const value: unknown = Reflect.get(started, property, started);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(started) : value;
    },
  });
}

/** What a step through auth0-local's sign-in pages ended on: one of its pages, or a redirect that leaves it. */
export type SignInStep =
  { kind: 'page'; url: string; status: number; html: string } | { kind: 'left'; location: URL };

/**
 * A minimal browser for auth0-local's sign-in pages: plain `fetch` with manual redirects and a cookie jar for the
 * auth0-local origin. It follows redirects while they stay on auth0-local and stops at the first page, or at the
 * redirect back to the application (whose URL carries `code`/`error` and `state`).
 */
export class SignInBrowser {
  private readonly cookies = new Map<string, string>();
  private readonly origin: string;

  constructor(domain: string) {
    this.origin = `https://${domain}`;
  }

  get cookieNames(): string[] {
    return [...this.cookies.keys()];
  }

  /** Opens a URL (usually an /authorize URL) and follows auth0-local's redirects. */
  open(url: string | URL): Promise<SignInStep> {
    return this.follow(String(url), { method: 'GET' });
  }

  /** Fills and posts the page's form: its hidden fields plus `fields` (input names, e.g. `username`, `password`). */
  submit(step: SignInStep, fields: Record<string, string>): Promise<SignInStep> {
    if (step.kind !== 'page') throw new Error('there is no form: the last step left auth0-local');
    const action = /<form method="post" action="([^"]+)"/.exec(step.html)?.[1];
    if (!action) throw new Error(`no form on ${step.url}`);
    const hidden = Object.fromEntries(
      [...step.html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((match) => [
        match[1] ?? '',
        decodeEntities(match[2] ?? ''),
      ]),
    );
    return this.follow(new URL(decodeEntities(action), step.url).toString(), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...hidden, ...fields }).toString(),
    });
  }

  private async follow(url: string, init: RequestInit): Promise<SignInStep> {
    let current = url;
    let response = await this.request(current, init);
    while (response.status >= 300 && response.status < 400) {
      const location = new URL(response.headers.get('location') ?? '', current);
      if (location.origin !== this.origin) return { kind: 'left', location };
      current = location.toString();
      response = await this.request(current, { method: 'GET' });
    }
    return { kind: 'page', url: current, status: response.status, html: await response.text() };
  }

  private async request(url: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) {
      headers.set('cookie', [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; '));
    }
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      const expired = attributes.some((attribute) => /^\s*max-age=0\s*$/i.test(attribute));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }
}

function decodeEntities(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** How many requests the tenant's request log holds: a position to count from. */
export function requestLogLength(local: TestAuth0Local): number {
  return local.requestLog.list({ tenant: local.name }).length;
}

/** The Management API writes (anything but GET) since a request-log position, as "METHOD /api/v2/path". */
export function managementWritesSince(local: TestAuth0Local, from: number): string[] {
  return local.requestLog
    .list({ tenant: local.name })
    .slice(from)
    .filter((entry) => entry.path.startsWith('/api/v2/') && entry.method !== 'GET')
    .map((entry) => `${entry.method} ${entry.path}`);
}
