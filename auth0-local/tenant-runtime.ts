/**
 * One running tenant: its state, signing key, rate limiter, sign-in sessions and HTTPS listener. Every tenant has its
 * own port and so its own domain (`127.0.0.1:PORT`), which is what the Auth0 SDK and deploy-cli need to address it.
 */
import type { Server } from 'node:https';

import { RateLimiter, resolveRateLimits } from './rate-limits.js';
import { SignInState } from './signin/state.js';
import type { TenantData } from './state/store.js';
import { TokenService } from './tokens.js';

export class TenantRuntime {
  readonly tokens: TokenService;
  readonly limiter: RateLimiter;
  /** Login transactions, codes and SSO sessions: in memory, as a restart may lose them. */
  readonly signin = new SignInState();
  server: Server | undefined;

  constructor(
    readonly data: TenantData,
    readonly domain: string,
  ) {
    this.tokens = new TokenService(data.meta.signingKey, this.issuer, this.audience);
    this.limiter = new RateLimiter(resolveRateLimits(data.meta.rateLimits), Date.now());
  }

  get name(): string {
    return this.data.meta.name;
  }

  get issuer(): string {
    return `https://${this.domain}/`;
  }

  get audience(): string {
    return `https://${this.domain}/api/v2/`;
  }
}
