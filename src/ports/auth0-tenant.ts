/**
 * The port through which the engine changes an Auth0 tenant. The engine knows steps (from the planner) and keeps the
 * journal; an implementation of this port knows Auth0: how to carry out each step kind, how to find out after a crash
 * whether a step already took effect, and how Auth0's answers map to retryable and permanent failures.
 *
 * Everything an implementation creates carries the ownership tag (`metadata.orgadmin_org = <organization name>`;
 * users: `app_metadata.orgadmin_org`), and it never updates or deletes an object without that tag.
 */
import type { Observed, OrgConnectionSettings, OrgSettings, Step, UrlLists } from '../domain/plan.js';

/** Ids learnt while a run executes, keyed `organization`, `connection:<name>`, `client:<name>`, `role:<name>`, `user:<email>`. */
export type KnownIds = Record<string, string>;

export interface StepContext {
  /** The organization's name (the natural key of everything created for it). */
  orgName: string;
  /** The run carrying out the step; stored on created objects for diagnosis (`orgadmin_run`). */
  runId: string;
  /** Ids recorded by earlier steps of this run (and of the organization's earlier runs). */
  ids: KnownIds;
}

/** What a step learnt: ids to remember for later steps and compensation (merged into `KnownIds`). */
export interface StepOutcome {
  ids?: KnownIds;
}

/** The state of a step found `started` after a crash: did it take effect? */
export type Reconciliation =
  /** It took effect (or its effect is otherwise present, e.g. a delete of something already gone). */
  | { state: 'done'; outcome: StepOutcome }
  /** It did not take effect: safe to carry it out again. */
  | { state: 'absent' }
  /** An object with our natural key exists but is not ours: never adopt it. */
  | { state: 'foreign'; message: string };

export interface ObserveRequest {
  orgName: string;
  /** Connection names the desired and applied specs name (derived and shared). */
  connectionNames: string[];
  /** Application (client) names the desired and applied specs name. */
  clientNames: string[];
  /**
   * Also read those applications' URL lists (`Observed.clients`), so a plan shown to people lists only what is
   * missing. A run leaves this off: its serialized reconciler reads each list under the client's lock anyway.
   */
  clientUrls?: boolean | undefined;
  adminEmail?: string | undefined;
  adminRoleName: string;
}

export interface AdminOnboardingResult {
  /** A password-change ticket or invitation URL, to hand to the administrator; never stored. */
  url?: string | undefined;
}

export interface Auth0Tenant {
  /** The tenant's domain, for messages and audit. */
  readonly domain: string;

  /** Reads what the plan needs; read-only. */
  observe(request: ObserveRequest): Promise<Observed>;

  /** Carries out one step. Throws `Auth0Failure` (retryable or permanent); a 404 on a delete is success. */
  execute(step: Step, context: StepContext): Promise<StepOutcome & AdminOnboardingResult>;

  /** Decides whether a step found `started` after a crash took effect, by natural key and ownership tag. */
  reconcile(step: Step, context: StepContext): Promise<Reconciliation>;

  /**
   * Client URL lists, for the serialized reconciler (the only read-modify-write left in the Management API).
   * Undefined when no application has that name; a name several applications share is a permanent failure.
   */
  readClientUrls(clientName: string): Promise<({ clientId: string } & UrlLists) | undefined>;
  writeClientUrls(clientId: string, urls: UrlLists): Promise<void>;

  /** What a spec may refer to: the connections no organization owns and the applications (read-only). */
  catalog(): Promise<Catalog>;

  /** Every organization of the tenant with its settings and connection links, for an import (read-only). */
  listOrganizations(): Promise<TenantOrganization[]>;
  /**
   * Tags an organization orgadmin did not create as this one's own (metadata `orgadmin_org`), so plans may update it:
   * adoption, on an operator's explicit request. Refuses one tagged for another organization.
   */
  adoptOrganization(name: string): Promise<void>;
}

/** An organization as an import finds it in the tenant. */
export interface TenantOrganization {
  name: string;
  displayName?: string | undefined;
  branding?: OrgSettings['branding'];
  /** The user's metadata (orgadmin's tags taken out). */
  metadata: Record<string, string>;
  /** The organization orgadmin's tag names, when it has one. */
  owner: string | undefined;
  connections: {
    name: string;
    strategy: string;
    /** The organization orgadmin's tag on the connection names, when it has one. */
    owner: string | undefined;
    /** The connection's options: read only for database connections orgadmin created (nothing secret there). */
    options?: Record<string, unknown> | undefined;
    settings: OrgConnectionSettings;
  }[];
}

export interface Catalog {
  connections: { name: string; strategy: string }[];
  clients: { name: string; clientId: string }[];
}

/** A failed Auth0 call, classified once in the adapter so nothing downstream parses messages. */
export class Auth0Failure extends Error {
  override readonly name = 'Auth0Failure';

  constructor(
    message: string,
    readonly details: {
      /** Transient (429, 5xx, timeout, connection reset): try again later. Permanent: fail the step. */
      retryable: boolean;
      status?: number | undefined;
      /** Auth0's own errorCode, when it sent one. */
      errorCode?: string | undefined;
      /** When to try again (from `x-ratelimit-reset` or `retry-after`), epoch milliseconds. */
      retryAt?: number | undefined;
    },
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get retryable(): boolean {
    return this.details.retryable;
  }
}
