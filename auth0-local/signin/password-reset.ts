/**
 * The page behind a password-change ticket (`POST /api/v2/tickets/password-change` returns
 * `https://<domain>/u/reset-password?ticket=…#`; Auth0's classic `/lo/reset?ticket=…` is served too). The ticket
 * works once and until it expires; the new password must pass the user's connection policy. Using it is journaled.
 */
import type { Context, Hono } from 'hono';

import { tables, type Json, type UserRecord } from '../model.js';
import { hashPassword, passwordAcceptable, passwordPolicyOf, passwordPolicyText } from '../routes/users.js';
import type { AppEnv } from '../router.js';
import type { TenantRuntime } from '../tenant-runtime.js';
import { errorResponse, page, readParams, redirect, withQuery } from './http.js';
import { userConnectionName } from './identity.js';
import { messagePage, resetPasswordPage } from './pages.js';

const PATHS = ['/u/reset-password', '/lo/reset'];

type TicketCheck = { ticket: Json & { id: string; type: string }; user: UserRecord } | { error: string };

export function registerPasswordResetRoutes(app: Hono<AppEnv>, tenant: TenantRuntime): void {
  const t = tenant.data;

  const check = (id: string | undefined): TicketCheck => {
    const ticket = id ? tables.tickets(t).get(id) : undefined;
    if (!ticket || ticket.type !== 'password-change') return { error: 'This link is not valid.' };
    if (ticket['used_at'] !== undefined) return { error: 'This link has already been used.' };
    if (Date.parse(String(ticket['expires_at'])) <= Date.now()) return { error: 'This link has expired.' };
    const user = tables.users(t).get(String(ticket['user_id']));
    if (!user) return { error: 'This link is not valid.' };
    return { ticket, user };
  };

  const policyFor = (user: UserRecord): string => {
    const name = userConnectionName(user);
    const connection = name ? tables.connections(t).getBy('name', name) : undefined;
    return connection ? passwordPolicyOf(connection) : 'good';
  };

  for (const path of PATHS) {
    app.get(path, (c) => {
      const ticketId = c.req.query('ticket');
      const checked = check(ticketId);
      if ('error' in checked) return errorResponse(c, 400, 'invalid_request', checked.error);
      return page(
        c,
        200,
        resetPasswordPage({ ticket: ticketId ?? '', action: path, email: checked.user.email }),
      );
    });

    app.post(path, async (c: Context) => {
      const form = await readParams(c);
      const ticketId = form['ticket'] ?? '';
      const checked = check(ticketId);
      if ('error' in checked) return errorResponse(c, 400, 'invalid_request', checked.error);
      const { ticket, user } = checked;
      const password = form['password'] ?? '';
      const again = (error: string): Response =>
        page(c, 400, resetPasswordPage({ ticket: ticketId, action: path, email: user.email, error }));
      if (password !== (form['confirm_password'] ?? '')) {
        return again('Please ensure the password and the confirmation are the same.');
      }
      const policy = policyFor(user);
      if (!passwordAcceptable(policy, password))
        return again(`Password is too weak. ${passwordPolicyText(policy)}`);

      const now = new Date().toISOString();
      tables.credentials(t).put(user.user_id, { user_id: user.user_id, hash: hashPassword(password) });
      tables.users(t).put(user.user_id, {
        ...user,
        ...(ticket['mark_email_as_verified'] === true ? { email_verified: true } : {}),
        updated_at: now,
        last_password_reset: now,
      });
      tables.tickets(t).put(ticket.id, { ...ticket, used_at: now });

      const resultUrl = ticket['result_url'];
      if (typeof resultUrl === 'string' && resultUrl !== '') {
        return redirect(
          c,
          withQuery(resultUrl, {
            success: 'true',
            message: 'You can now login to the application with the new password.',
            email: ticket['include_email_in_redirect'] === true ? user.email : undefined,
          }),
        );
      }
      const client =
        typeof ticket['client_id'] === 'string' ? tables.clients(t).get(ticket['client_id']) : undefined;
      const loginRoute = client?.initiate_login_uri;
      const orgId = ticket['organization_id'];
      const back =
        client && loginRoute
          ? {
              href: withQuery(loginRoute, { organization: typeof orgId === 'string' ? orgId : undefined }),
              label: `Back to ${client.name}`,
            }
          : undefined;
      return page(
        c,
        200,
        messagePage('Password Changed!', 'Your password has been changed successfully.', back),
      );
    });
  }
}
