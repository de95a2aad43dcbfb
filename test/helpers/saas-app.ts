/**
 * A minimal stand-in for the customer's SaaS application in browser tests: an HTTPS site on 127.0.0.1 (with
 * auth0-local's test certificate) whose login route starts Auth0 organization login with openid-client — passing on
 * the `invitation` and `organization` an invitation link carries — and whose callback shows the ID token's claims.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';

import * as oidc from 'openid-client';

import { ensureTlsMaterial } from '../../auth0-local/certificates.js';

export interface SaasApp {
  url: string;
  /** Sets the application's OAuth client (created in the tenant after the app knows its URL). */
  useClient(client: { issuer: string; clientId: string; clientSecret: string }): void;
  close(): Promise<void>;
}

export async function startSaasApp(tlsDir: string): Promise<SaasApp> {
  const tls = await ensureTlsMaterial(tlsDir);
  let client: { issuer: string; clientId: string; clientSecret: string } | undefined;
  let config: oidc.Configuration | undefined;
  const pending = new Map<string, { verifier: string; nonce: string }>();
  let url = '';

  const server: Server = createServer({ cert: tls.cert, key: tls.key }, (request, response) => {
    const handle = async (): Promise<void> => {
      const current = new URL(request.url ?? '/', url);
      if (!client) throw new Error('no client yet');
      config ??= await oidc.discovery(new URL(client.issuer), client.clientId, client.clientSecret);
      if (current.pathname === '/login') {
        const verifier = oidc.randomPKCECodeVerifier();
        const state = oidc.randomState();
        const nonce = oidc.randomNonce();
        pending.set(state, { verifier, nonce });
        const passOn = Object.fromEntries(
          ['invitation', 'organization', 'organization_name']
            .map((name) => [name, current.searchParams.get(name)] as const)
            .filter(
              (entry): entry is readonly [string, string] =>
                entry[1] !== null && entry[0] !== 'organization_name',
            ),
        );
        const authorize = oidc.buildAuthorizationUrl(config, {
          redirect_uri: `${url}/callback`,
          scope: 'openid profile email',
          code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          state,
          nonce,
          ...passOn,
        });
        response.writeHead(302, { location: authorize.href }).end();
        return;
      }
      if (current.pathname === '/callback') {
        const state = current.searchParams.get('state') ?? '';
        const transaction = pending.get(state);
        pending.delete(state);
        if (!transaction) throw new Error('unknown state');
        const tokens = await oidc.authorizationCodeGrant(config, current, {
          pkceCodeVerifier: transaction.verifier,
          expectedState: state,
          expectedNonce: transaction.nonce,
          idTokenExpected: true,
        });
        const claims = tokens.claims();
        response
          .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
          .end(
            `<!doctype html><html lang="en"><head><title>SaaS App</title></head><body><main><h1>Signed in to SaaS App</h1><pre id="claims">${JSON.stringify(claims, null, 2).replace(/</g, '&lt;')}</pre></main></body></html>`,
          );
        return;
      }
      response.writeHead(404).end('not found');
    };
    handle().catch((error: unknown) => {
      response
        .writeHead(500, { 'content-type': 'text/plain' })
        .end(error instanceof Error ? error.message : String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    useClient(value) {
      client = value;
      config = undefined;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
