/**
 * Management API calls the benchmark itself makes (outside any measurement): over HTTPS with auth0-local's CA given
 * to the request, because this process started without NODE_EXTRA_CA_CERTS (Node reads it only at start).
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';

import type { Local } from '../provision/tenant.js';

function send(
  local: Local,
  ca: string,
  method: string,
  path: string,
  body: unknown,
  token?: string,
): Promise<{ status: number; json: unknown }> {
  const [host, port] = local.domain.split(':');
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port: Number(port ?? 443),
        method,
        path,
        ca,
        headers: {
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** A caller of the tenant's Management API with the management client's credentials. */
export async function managementApi(
  local: Local,
  caCertPath: string,
): Promise<(method: string, path: string, body?: unknown) => Promise<unknown>> {
  const ca = readFileSync(caCertPath, 'utf8');
  const token = await send(local, ca, 'POST', '/oauth/token', {
    grant_type: 'client_credentials',
    client_id: local.clientId,
    client_secret: local.clientSecret,
    audience: local.audience,
  });
  const accessToken = (token.json as { access_token?: unknown } | undefined)?.access_token;
  if (token.status !== 200 || typeof accessToken !== 'string')
    throw new Error(`auth0-local refused a token: ${token.status} ${JSON.stringify(token.json)}`);
  return async (method, path, body) => {
    const answer = await send(local, ca, method, `/api/v2${path}`, body, accessToken);
    if (answer.status >= 300)
      throw new Error(`${method} ${path} answered ${answer.status}: ${JSON.stringify(answer.json)}`);
    return answer.json;
  };
}
