/**
 * The SaaS app's Auth0 application ("SaaS App"), created with the official SDK as an administrator would create it:
 * a regular web app using the authorization code grant, with organization login required. Idempotent: a restart
 * finds it by name and only adds this run's callback URL if it is missing.
 */
import type { Management, ManagementClient } from 'auth0';

export const SAAS_APP_CLIENT_NAME = 'SaaS App';

export async function ensureSaasAppClient(
  api: ManagementClient,
  appUrl: string,
): Promise<{ clientId: string; clientSecret: string; created: boolean }> {
  const callback = `${appUrl}/callback`;
  let found: Management.Client | undefined;
  for await (const client of await api.clients.list({ per_page: 100 })) {
    if (client.name === SAAS_APP_CLIENT_NAME) {
      found = client;
      break;
    }
  }
  if (!found) {
    const client = await api.clients.create({
      name: SAAS_APP_CLIENT_NAME,
      app_type: 'regular_web',
      callbacks: [callback],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_post',
      // Every sign-in names its organization. `no_prompt` (Auth0's default) refuses a sign-in without one, which is
      // also what auth0-local does: it has no organization prompt.
      organization_usage: 'require',
      organization_require_behavior: 'no_prompt',
    });
    return { ...credentialsOf(client), created: true };
  }
  const callbacks = found.callbacks ?? [];
  if (!callbacks.includes(callback)) {
    // Added to the list rather than replacing it: orgadmin adds organizations' callback URLs to this client too.
    await api.clients.update(found.client_id!, { callbacks: [...callbacks, callback] });
  }
  return { ...credentialsOf(found), created: false };
}

function credentialsOf(client: { client_id?: string; client_secret?: string }): {
  clientId: string;
  clientSecret: string;
} {
  if (!client.client_id || !client.client_secret) {
    throw new Error(`the "${SAAS_APP_CLIENT_NAME}" application has no client id or secret in Auth0's answer`);
  }
  return { clientId: client.client_id, clientSecret: client.client_secret };
}
