/**
 * Auth0 organization login with openid-client: the authorization code flow with PKCE, state and nonce, asking Auth0
 * for one organization (`organization=<Auth0 organization id>`), and checking that the ID token's `org_id` is that
 * organization. The login in progress is kept server-side under its `state`, and a cookie holding the same state
 * ties the callback to the browser that started it (so nobody can complete a login someone else started).
 */
import * as oidc from 'openid-client';

export interface Auth0Client {
  /** `https://<domain>/` */
  issuer: string;
  clientId: string;
  clientSecret: string;
}

/** A failure to show the user: an HTTP status, a page title and what happened. */
export class LoginError extends Error {
  override readonly name = 'LoginError';
  constructor(
    readonly status: 400 | 403 | 404 | 502 | 503,
    readonly title: string,
    message: string,
  ) {
    super(message);
  }
}

export interface LoginTarget {
  orgName: string;
  auth0OrgId: string;
}

export interface OrganizationLogin {
  readonly configured: boolean;
  use(client: Auth0Client): void;
  /** Where to send the browser, and the state to keep in the browser's login cookie. */
  start(
    target: LoginTarget,
    redirectUri: string,
    invitation?: string,
  ): Promise<{ location: URL; state: string }>;
  /** Completes the login from the callback URL (as the browser requested it) and the state in its cookie. */
  finish(callback: URL, cookieState: string | undefined): Promise<LoginTarget & { email: string }>;
}

const LOGIN_TTL_MS = 10 * 60_000;
/** Bounds the memory a flood of unfinished logins can take. */
const MAX_PENDING_LOGINS = 10_000;

interface PendingLogin extends LoginTarget {
  verifier: string;
  nonce: string;
  expiresAt: number;
}

export function createOrganizationLogin(): OrganizationLogin {
  let client: Auth0Client | undefined;
  let discovered: Promise<oidc.Configuration> | undefined;
  const pending = new Map<string, PendingLogin>();

  const configuration = async (): Promise<oidc.Configuration> => {
    if (!client) {
      throw new LoginError(
        503,
        'Sign-in unavailable',
        'Organization login is not configured for this app yet.',
      );
    }
    const { issuer, clientId, clientSecret } = client;
    const attempt = (discovered ??= oidc.discovery(new URL(issuer), clientId, clientSecret));
    try {
      return await attempt;
    } catch (error) {
      // A failed discovery (Auth0 not reachable yet) is tried again on the next login instead of being kept.
      if (discovered === attempt) discovered = undefined;
      throw new LoginError(502, 'Sign-in unavailable', `Cannot reach ${issuer}: ${messageOf(error)}`);
    }
  };

  const forgetExpired = (now: number): void => {
    for (const [state, login] of pending) if (login.expiresAt <= now) pending.delete(state);
  };

  return {
    get configured() {
      return client !== undefined;
    },

    use(value) {
      client = value;
      discovered = undefined;
    },

    async start(target, redirectUri, invitation) {
      const config = await configuration();
      const now = Date.now();
      forgetExpired(now);
      if (pending.size >= MAX_PENDING_LOGINS) {
        throw new LoginError(
          503,
          'Too many sign-ins',
          'Too many sign-ins are in progress; try again shortly.',
        );
      }
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      pending.set(state, { ...target, verifier, nonce, expiresAt: now + LOGIN_TTL_MS });
      const location = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'openid profile email',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
        organization: target.auth0OrgId,
        ...(invitation ? { invitation } : {}),
      });
      return { location, state };
    },

    async finish(callback, cookieState) {
      const state = callback.searchParams.get('state') ?? '';
      const login = pending.get(state);
      if (!state || state !== cookieState || !login || login.expiresAt <= Date.now()) {
        throw new LoginError(
          400,
          'Sign-in expired',
          'This sign-in has expired or was started in another browser. Start it again from the list of organizations.',
        );
      }
      pending.delete(state);
      const error = callback.searchParams.get('error');
      if (error) {
        const description = callback.searchParams.get('error_description');
        throw new LoginError(403, 'Sign-in refused', description ? `${error}: ${description}` : error);
      }
      const config = await configuration();
      let claims: oidc.IDToken | undefined;
      try {
        const tokens = await oidc.authorizationCodeGrant(config, callback, {
          pkceCodeVerifier: login.verifier,
          expectedState: state,
          expectedNonce: login.nonce,
          idTokenExpected: true,
        });
        claims = tokens.claims();
      } catch (cause) {
        throw new LoginError(
          502,
          'Sign-in failed',
          `Auth0 did not complete the sign-in: ${messageOf(cause)}`,
        );
      }
      if (!claims || claims['org_id'] !== login.auth0OrgId) {
        throw new LoginError(
          403,
          'Wrong organization',
          `The sign-in was for another organization than ${login.orgName} (org_id ${JSON.stringify(claims?.['org_id'] ?? null)}).`,
        );
      }
      const email = typeof claims['email'] === 'string' ? claims['email'] : claims.sub;
      return { orgName: login.orgName, auth0OrgId: login.auth0OrgId, email };
    },
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
