/**
 * Who is calling: an operator's browser session (cookie) or a script with a Bearer access token issued by the
 * portal's identity provider for the portal's API. Both end as a `Principal` with roles; routes check permissions
 * on it and never look at cookies or tokens themselves.
 */
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';

import { isRole, ROLES, type Role } from '../domain/roles.js';
import type { OperatorSession } from '../ports/sessions.js';

export type Principal =
  | {
      kind: 'session';
      subject: string;
      roles: Role[];
      /** What the audit trail records as the actor. */
      actor: string;
      session: OperatorSession;
      /** The cookie's token (to end the session). */
      token: string;
    }
  | { kind: 'bearer'; subject: string; roles: Role[]; actor: string };

/** Roles from the namespaced claim (users) or `orgadmin:<role>` scopes/permissions (machine clients). */
export function rolesFromClaims(claims: JWTPayload, rolesClaim: string): Role[] {
  const roles = new Set<Role>();
  const claimed = claims[rolesClaim];
  if (Array.isArray(claimed)) for (const role of claimed) if (isRole(role)) roles.add(role);
  const permissions: unknown[] = Array.isArray(claims['permissions']) ? claims['permissions'] : [];
  const grants: unknown[] = [
    ...(typeof claims['scope'] === 'string' ? claims['scope'].split(' ') : []),
    ...permissions,
  ];
  for (const grant of grants) {
    if (typeof grant !== 'string' || !grant.startsWith('orgadmin:')) continue;
    const role = grant.slice('orgadmin:'.length);
    if (isRole(role)) roles.add(role);
  }
  return ROLES.filter((role) => roles.has(role));
}

export interface BearerVerifier {
  /** The principal of a valid access token, or undefined (bad signature, issuer, audience, expiry, …). */
  verify(token: string): Promise<Principal | undefined>;
}

export function createBearerVerifier(options: {
  issuer: string;
  audience: string;
  rolesClaim: string;
}): BearerVerifier {
  const jwks = createRemoteJWKSet(new URL('.well-known/jwks.json', options.issuer));
  return {
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, jwks, {
          issuer: options.issuer,
          audience: options.audience,
          algorithms: ['RS256'],
        });
        if (typeof payload.sub !== 'string') return undefined;
        return {
          kind: 'bearer',
          subject: payload.sub,
          roles: rolesFromClaims(payload, options.rolesClaim),
          actor: `api:${payload.sub}`,
        };
      } catch {
        return undefined;
      }
    },
  };
}
