/**
 * The endpoints around a signed-in session: `/userinfo` (bearer access token for the userinfo audience) and the two
 * logout endpoints, `/v2/logout` (Auth0's, `returnTo`) and `/oidc/logout` (RP-initiated logout,
 * `post_logout_redirect_uri`). Both end the SSO session and redirect only to an allowed logout URL; a refused
 * target is an error page and leaves the session as it was.
 */
import type { Context, Hono } from 'hono';

import { tables } from '../model.js';
import type { AppEnv } from '../router.js';
import type { TenantRuntime } from '../tenant-runtime.js';
import { endSession, errorResponse, page, redirect, withQuery } from './http.js';
import { stringList, urlAllowed } from './identity.js';
import { messagePage } from './pages.js';
import { profileClaims } from './token-endpoint.js';

export function registerSessionRoutes(app: Hono<AppEnv>, tenant: TenantRuntime): void {
  const t = tenant.data;
  const userinfoAudience = `${tenant.issuer}userinfo`;

  const userinfo = async (c: Context): Promise<Response> => {
    const denied = (): Response =>
      c.text('Unauthorized', 401, { 'www-authenticate': 'Bearer error="invalid_token"' });
    const token = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
    if (!token) return c.text('Unauthorized', 401, { 'www-authenticate': 'Bearer' });
    const payload = await tenant.tokens.inspect(token, Math.floor(Date.now() / 1000));
    if (!payload) return denied();
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (!audiences.includes(userinfoAudience)) return denied();
    const user = tables.users(t).get(String(payload.sub));
    if (!user) return denied();
    const scope = typeof payload['scope'] === 'string' ? payload['scope'].split(' ') : [];
    const rolesClaim = t.meta.rolesClaim;
    return c.json({
      sub: user.user_id,
      ...profileClaims(user, scope),
      ...(typeof payload['org_id'] === 'string' ? { org_id: payload['org_id'] } : {}),
      // What the login's Action put in the tokens, as Auth0 returns the ID token's custom claims here.
      ...(rolesClaim && payload[rolesClaim] !== undefined ? { [rolesClaim]: payload[rolesClaim] } : {}),
    });
  };
  app.get('/userinfo', userinfo);
  app.post('/userinfo', userinfo);

  const loggedOut = (c: Context): Response =>
    page(c, 200, messagePage('Logged out', 'You have been logged out.'));

  app.get('/v2/logout', (c) => {
    const clientId = c.req.query('client_id');
    const returnTo = c.req.query('returnTo');
    let allowed = t.meta.allowedLogoutUrls ?? [];
    let where = 'the tenant';
    if (clientId) {
      const client = tables.clients(t).get(clientId);
      if (!client) return errorResponse(c, 400, 'invalid_request', `Unknown client: ${clientId}`);
      allowed = stringList(client['allowed_logout_urls']);
      where = `the application ${client.name}`;
    }
    if (returnTo === undefined || returnTo === '') {
      // Without returnTo Auth0 goes to the first allowed logout URL, if there is one.
      const first = allowed.find((url) => !url.includes('*') && !url.includes('{'));
      endSession(c, tenant);
      return first ? redirect(c, first) : loggedOut(c);
    }
    if (!urlAllowed(allowed, returnTo)) {
      return errorResponse(
        c,
        400,
        'invalid_request',
        `The "returnTo" querystring parameter "${returnTo}" is not defined as a valid URL in "Allowed Logout URLs" of ${where}.`,
      );
    }
    endSession(c, tenant);
    return redirect(c, returnTo);
  });

  app.get('/oidc/logout', async (c) => {
    const query = new URL(c.req.url).searchParams;
    const hint = query.get('id_token_hint') ?? undefined;
    const target = query.get('post_logout_redirect_uri') ?? undefined;
    let clientId = query.get('client_id') ?? undefined;
    if (hint) {
      // An expired ID token is still a fine hint: it names the client and proves this tenant issued it.
      const payload = await tenant.tokens.inspect(hint, Math.floor(Date.now() / 1000), {
        allowExpired: true,
      });
      if (!payload) return errorResponse(c, 400, 'invalid_request', 'The id_token_hint is not valid.');
      const audience = Array.isArray(payload.aud) ? payload.aud[0] : payload.aud;
      if (clientId !== undefined && clientId !== audience) {
        return errorResponse(
          c,
          400,
          'invalid_request',
          'The client_id does not match the id_token_hint audience.',
        );
      }
      clientId = audience;
    }
    const client = clientId ? tables.clients(t).get(clientId) : undefined;
    if (clientId && !client) return errorResponse(c, 400, 'invalid_request', `Unknown client: ${clientId}`);
    if (target !== undefined) {
      if (!client) {
        return errorResponse(
          c,
          400,
          'invalid_request',
          'A post_logout_redirect_uri needs an id_token_hint or a client_id.',
        );
      }
      if (!urlAllowed(stringList(client['allowed_logout_urls']), target)) {
        return errorResponse(
          c,
          400,
          'invalid_request',
          `The "post_logout_redirect_uri" parameter "${target}" is not defined as a valid URL in "Allowed Logout URLs" of the application ${client.name}.`,
        );
      }
    }
    endSession(c, tenant);
    if (target === undefined) return loggedOut(c);
    return redirect(c, withQuery(target, { state: query.get('state') ?? undefined }));
  });
}
