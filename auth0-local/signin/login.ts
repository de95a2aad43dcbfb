/**
 * `GET /authorize` and the Universal-Login-like pages behind it (`/u/login`, `/u/signup`).
 *
 * `/authorize` validates like Auth0 — errors before the redirect URI is known are an HTML page, later ones go back to
 * it as `?error=…&error_description=…&state=…` — then either answers at once from the SSO session or keeps the
 * request server-side under a random transaction id and sends the browser to a form carrying that id in its hidden
 * `state` field. A successful form post starts a new SSO session and redirects with a one-time code.
 */
import type { Context, Hono } from 'hono';

import { Auth0HttpError } from '../errors.js';
import { alphanumeric } from '../ids.js';
import {
  tables,
  type ClientRecord,
  type InvitationRecord,
  type OrgRecord,
  type UserRecord,
} from '../model.js';
import {
  createDatabaseUser,
  passwordAcceptable,
  passwordPolicyOf,
  passwordPolicyText,
  userInConnection,
} from '../routes/users.js';
import type { AppEnv } from '../router.js';
import type { TenantRuntime } from '../tenant-runtime.js';
import {
  browserId,
  currentSession,
  errorResponse,
  page,
  readParams,
  redirect,
  sameBrowser,
  startSessionCookie,
  withQuery,
} from './http.js';
import {
  acceptInvitation,
  admitToOrganization,
  authenticate,
  databaseConnections,
  displayName,
  findInvitation,
  findOrganization,
  grantTypes,
  inviteeEmail,
  notAMember,
  recordLogin,
  stringList,
  urlAllowed,
  type LoginConnection,
} from './identity.js';
import { loginPage, signupPage, type LoginPageModel } from './pages.js';
import { secret, type AuthorizationRequest, type LoginTransaction, type SsoSession } from './state.js';

const PROMPTS = new Set(['none', 'login', 'consent', 'select_account']);
const EXPIRED_TRANSACTION =
  'Your login session has expired, is not valid or was started in another browser. Go back to the application and sign in again.';
const WRONG_CREDENTIALS = 'Wrong email or password';
const INVITATION_GONE = 'invitation not found or already used';

interface FormPost {
  form: Record<string, string | undefined>;
  tx: LoginTransaction;
  request: AuthorizationRequest;
  invitation: InvitationRecord | undefined;
}

export function registerLoginRoutes(app: Hono<AppEnv>, tenant: TenantRuntime): void {
  const t = tenant.data;

  /** Sends an error back to the application, as Auth0 does once the redirect URI is known to be allowed. */
  const fail = (
    c: Context,
    request: Pick<AuthorizationRequest, 'redirectUri' | 'state'>,
    error: string,
    text: string,
  ) => redirect(c, withQuery(request.redirectUri, { error, error_description: text, state: request.state }));

  const issueCode = (
    c: Context,
    request: AuthorizationRequest,
    session: SsoSession,
    now: number,
  ): Response => {
    const code = secret();
    tenant.signin.codes.add(
      code,
      (expiresAt) => ({
        request,
        userId: session.userId,
        authTime: session.authTime,
        sid: session.sid,
        expiresAt,
      }),
      now,
    );
    return redirect(c, withQuery(request.redirectUri, { code, state: request.state }));
  };

  /** A password was just proven: a new session (never the old one: session fixation), then the code. */
  const completeLogin = (
    c: Context,
    tx: LoginTransaction,
    user: UserRecord,
    connection: string,
  ): Response => {
    const now = Date.now();
    tenant.signin.transactions.delete(tx.id);
    recordLogin(t, user.user_id, now);
    const previous = currentSession(c, tenant, now);
    if (previous) tenant.signin.sessions.delete(previous.key);
    const key = secret();
    const session = tenant.signin.sessions.add(
      key,
      (expiresAt) => ({
        sid: alphanumeric(32),
        userId: user.user_id,
        connection,
        authTime: Math.floor(now / 1000),
        expiresAt,
      }),
      now,
    );
    startSessionCookie(c, tenant, key);
    return issueCode(c, tx.request, session, now);
  };

  const clientOf = (request: AuthorizationRequest): ClientRecord | undefined =>
    tables.clients(t).get(request.clientId);
  const orgOf = (request: AuthorizationRequest): OrgRecord | undefined =>
    request.organizationId ? tables.organizations(t).get(request.organizationId) : undefined;
  const invitationOf = (request: AuthorizationRequest): InvitationRecord | undefined =>
    request.invitation
      ? findInvitation(t, request.invitation, request.organizationId, Date.now())
      : undefined;

  /** The connections a login of this request may use; an invitation naming a connection narrows them to it. */
  const loginConnections = (
    request: AuthorizationRequest,
    invitation?: InvitationRecord,
  ): LoginConnection[] => {
    const all = databaseConnections(t, request.clientId, request.organizationId, request.connection);
    const invited = invitation?.['connection_id'];
    return typeof invited === 'string' ? all.filter((item) => item.connection.id === invited) : all;
  };

  /** Where a sign-up of this request would create the user, if it may. */
  const signupConnection = (
    request: AuthorizationRequest,
    invitation: InvitationRecord | undefined,
  ): LoginConnection | undefined =>
    loginConnections(request, invitation).find(
      (item) =>
        item.connection.options['disable_signup'] !== true &&
        (invitation !== undefined || !item.orgConnection || item.orgConnection.is_signup_enabled),
    );

  const pageModel = (tx: LoginTransaction, error?: string, typed?: string): LoginPageModel => {
    const client = clientOf(tx.request);
    const org = orgOf(tx.request);
    const invitation = invitationOf(tx.request);
    const branding = org?.branding as { logo_url?: unknown } | undefined;
    return {
      transaction: tx.id,
      clientName: client?.name ?? '',
      orgName: org ? displayName(org) : undefined,
      logoUrl: typeof branding?.logo_url === 'string' ? branding.logo_url : undefined,
      email: invitation ? inviteeEmail(invitation) : (typed ?? tx.request.loginHint),
      emailLocked: invitation !== undefined,
      error,
    };
  };

  app.get('/authorize', (c) => {
    const now = Date.now();
    const query = new URL(c.req.url).searchParams;
    const param = (name: string): string | undefined => {
      const value = query.get(name);
      return value === null || value === '' ? undefined : value;
    };
    const clientId = param('client_id');
    if (!clientId) return errorResponse(c, 400, 'invalid_request', 'Missing required parameter: client_id');
    const client = tables.clients(t).get(clientId);
    if (!client) return errorResponse(c, 400, 'invalid_request', `Unknown client: ${clientId}`);
    const orgParam = param('organization');
    const invitationTicket = param('invitation');
    let org = orgParam ? findOrganization(t, orgParam) : undefined;
    const invitation = invitationTicket ? findInvitation(t, invitationTicket, org?.id, now) : undefined;
    // An invitation names its organization, so a link carrying only `invitation` still works.
    if (!orgParam && invitation) org = tables.organizations(t).get(invitation.organization_id);

    const redirectUri = param('redirect_uri');
    if (!redirectUri)
      return errorResponse(c, 400, 'invalid_request', 'Missing required parameter: redirect_uri');
    if (!URL.canParse(redirectUri) || !urlAllowed(stringList(client['callbacks']), redirectUri, org?.name)) {
      return errorResponse(
        c,
        400,
        'unauthorized_client',
        `Callback URL mismatch. ${redirectUri} is not in the list of allowed callback URLs`,
      );
    }
    const target = { redirectUri, state: param('state') };
    const reject = (error: string, text: string): Response => fail(c, target, error, text);

    const responseType = param('response_type');
    if (!responseType) return reject('invalid_request', 'Missing required parameter: response_type');
    if (responseType !== 'code')
      return reject('unsupported_response_type', `Unsupported response type: ${responseType}`);
    const responseMode = param('response_mode');
    if (responseMode && responseMode !== 'query') {
      return reject('invalid_request', `Unsupported response_mode: ${responseMode}`);
    }
    if (!grantTypes(client).includes('authorization_code')) {
      return reject('unauthorized_client', "Grant type 'authorization_code' not allowed for the client.");
    }
    const codeChallenge = param('code_challenge');
    const method = param('code_challenge_method');
    if (method !== undefined && method !== 'S256' && method !== 'plain') {
      return reject('invalid_request', 'Invalid value for code_challenge_method, must be "S256" or "plain"');
    }
    if (codeChallenge === undefined && method !== undefined) {
      return reject('invalid_request', 'Missing required parameter: code_challenge');
    }
    if (codeChallenge !== undefined && !/^[A-Za-z0-9._~-]{43,128}$/.test(codeChallenge)) {
      return reject('invalid_request', 'Invalid code_challenge');
    }
    const audience = param('audience');
    if (audience && !tables.resourceServers(t).getBy('identifier', audience)) {
      return reject('access_denied', `Service not found: ${audience}`);
    }
    const usage = typeof client['organization_usage'] === 'string' ? client['organization_usage'] : 'deny';
    if (orgParam !== undefined || invitationTicket !== undefined) {
      if (usage === 'deny')
        return reject('invalid_request', 'parameter organization is not allowed for this client');
      if (!org)
        return reject('invalid_request', `no organization found by that id or name: ${orgParam ?? ''}`);
    } else if (usage === 'require') {
      return reject('invalid_request', 'parameter organization is required for this client');
    }
    if (invitationTicket !== undefined && !invitation) return reject('invalid_request', INVITATION_GONE);
    const maxAgeText = param('max_age');
    if (maxAgeText !== undefined && !/^\d+$/.test(maxAgeText)) {
      return reject('invalid_request', 'max_age must be a non-negative integer');
    }
    const prompts = (param('prompt') ?? '').split(' ').filter(Boolean);
    if (prompts.some((prompt) => !PROMPTS.has(prompt)))
      return reject('invalid_request', 'Invalid prompt value');
    if (prompts.includes('none') && prompts.length > 1) {
      return reject('invalid_request', 'prompt=none cannot be combined with other values');
    }

    const request: AuthorizationRequest = {
      clientId: client.client_id,
      redirectUri,
      state: target.state,
      nonce: param('nonce'),
      scope: (param('scope') ?? '').split(' ').filter(Boolean),
      audience,
      codeChallenge,
      codeChallengeMethod: codeChallenge === undefined ? undefined : (method ?? 'plain'),
      organizationId: org?.id,
      invitation: invitation ? invitationTicket : undefined,
      connection: param('connection'),
      loginHint: param('login_hint'),
      maxAge: maxAgeText === undefined ? undefined : Number(maxAgeText),
    };

    // Single sign-on: a live session answers at once unless the request asks for a fresh login.
    const forceLogin = prompts.includes('login') || request.maxAge === 0 || invitation !== undefined;
    const current = forceLogin ? undefined : currentSession(c, tenant, now);
    if (current) {
      const { session } = current;
      const recent = request.maxAge === undefined || now / 1000 - session.authTime <= request.maxAge;
      const user = tables.users(t).get(session.userId);
      const via = loginConnections(request).find((item) => item.connection.name === session.connection);
      if (recent && user && via && user['blocked'] !== true) {
        if (org && !admitToOrganization(t, org.id, user.user_id, via.orgConnection)) {
          return reject('access_denied', notAMember(user.user_id, org.id));
        }
        return issueCode(c, request, session, now);
      }
    }
    if (prompts.includes('none')) return reject('login_required', 'Login required');

    const id = secret();
    const browser = browserId(c, tenant);
    tenant.signin.transactions.add(id, (expiresAt) => ({ id, browser, request, expiresAt }), now);
    let screen =
      param('screen_hint') === 'signup' && signupConnection(request, undefined) ? 'signup' : 'login';
    if (invitation) {
      const email = inviteeEmail(invitation);
      const known = loginConnections(request, invitation).some((item) =>
        userInConnection(t, item.connection.name, email),
      );
      screen = known ? 'login' : 'signup';
    }
    return redirect(c, `/u/${screen}?state=${encodeURIComponent(id)}`);
  });

  const transaction = (id: string | undefined): LoginTransaction | undefined =>
    id ? tenant.signin.transactions.get(id, Date.now()) : undefined;

  app.get('/u/login', (c) => {
    const tx = transaction(c.req.query('state'));
    if (!tx) return errorResponse(c, 400, 'invalid_request', EXPIRED_TRANSACTION);
    return page(c, 200, loginPage(pageModel(tx)));
  });

  app.get('/u/signup', (c) => {
    const tx = transaction(c.req.query('state'));
    if (!tx) return errorResponse(c, 400, 'invalid_request', EXPIRED_TRANSACTION);
    return page(c, 200, signupPage(pageModel(tx)));
  });

  /** The transaction a form post belongs to, if it is live and was started in this browser. */
  const postedTransaction = (c: Context, id: string | undefined): LoginTransaction | undefined => {
    const tx = transaction(id);
    return tx && sameBrowser(c, tenant, tx.browser) ? tx : undefined;
  };

  /**
   * What both form posts begin with: the fields, their transaction and its invitation — or the answer when the
   * transaction is not live in this browser, or the invitation it was started with is gone meanwhile.
   */
  const readFormPost = async (c: Context): Promise<FormPost | Response> => {
    const form = await readParams(c);
    const tx = postedTransaction(c, form['state']);
    if (!tx) return errorResponse(c, 400, 'invalid_request', EXPIRED_TRANSACTION);
    const { request } = tx;
    const invitation = invitationOf(request);
    if (request.invitation && !invitation) {
      tenant.signin.transactions.delete(tx.id);
      return fail(c, request, 'invalid_request', INVITATION_GONE);
    }
    return { form, tx, request, invitation };
  };

  app.post('/u/login', async (c) => {
    const post = await readFormPost(c);
    if (post instanceof Response) return post;
    const { form, tx, request, invitation } = post;
    const email = invitation ? inviteeEmail(invitation) : (form['username'] ?? '').trim();
    const match = await authenticate(t, loginConnections(request, invitation), email, form['password'] ?? '');
    if (!match) return page(c, 400, loginPage(pageModel(tx, WRONG_CREDENTIALS, email)));
    const { user, via } = match;
    if (user['blocked'] === true) {
      tenant.signin.transactions.delete(tx.id);
      return fail(c, request, 'unauthorized', 'user is blocked');
    }
    if (invitation) {
      acceptInvitation(t, invitation, user, Date.now());
    } else if (
      request.organizationId &&
      !admitToOrganization(t, request.organizationId, user.user_id, via.orgConnection)
    ) {
      tenant.signin.transactions.delete(tx.id);
      return fail(c, request, 'access_denied', notAMember(user.user_id, request.organizationId));
    }
    return completeLogin(c, tx, user, via.connection.name);
  });

  app.post('/u/signup', async (c) => {
    const post = await readFormPost(c);
    if (post instanceof Response) return post;
    const { form, tx, request, invitation } = post;
    const email = invitation ? inviteeEmail(invitation) : (form['username'] ?? '').trim().toLowerCase();
    const password = form['password'] ?? '';
    const again = (error: string): Response => page(c, 400, signupPage(pageModel(tx, error, email)));
    const target = signupConnection(request, invitation);
    if (!target) return again('Sign ups are not allowed for this application.');
    if (!/^[^\s@]+@[^\s@]+$/.test(email)) return again('Email is not valid.');
    const policy = passwordPolicyOf(target.connection);
    if (!passwordAcceptable(policy, password))
      return again(`Password is too weak. ${passwordPolicyText(policy)}`);
    let user: UserRecord;
    try {
      // An invitation proves the address, so the invitee starts verified.
      user = createDatabaseUser(
        t,
        target.connection,
        { email, password, email_verified: !!invitation },
        Date.now(),
      );
    } catch (error) {
      if (error instanceof Auth0HttpError) return again(error.message);
      throw error;
    }
    if (invitation) acceptInvitation(t, invitation, user, Date.now());
    else if (request.organizationId) {
      // Only connections with is_signup_enabled (which implies assign_membership_on_login) got here.
      tables.orgMembers(t, request.organizationId).put(user.user_id, { user_id: user.user_id });
    }
    return completeLogin(c, tx, user, target.connection.name);
  });
}
