/**
 * The `Auth0Tenant` port over the official `auth0` SDK (v7 `ManagementClient`), so the same code runs against a real
 * tenant and against auth0-local.
 *
 * - Every SDK call goes through `call()`, which classifies failures once (`classifyAuth0Error`). The SDK never
 *   retries on its own (`maxRetries: 0` on the client and on every request): the engine owns retries, and an SDK
 *   retry of a POST after a lost answer is exactly the ambiguous case the engine reconciles.
 * - Given the tenant's plan (`rateLimits`), every Management API request passes a client-side rate budget
 *   (`rate-budget.ts`, in the client's `fetch`), so normal operation stays inside Auth0's buckets instead of learning
 *   them from 429s.
 * - Objects are found by natural key (organization and connection name, user email + connection, role name) and are
 *   updated or deleted only when they carry this organization's ownership tag. Applications are found by name through
 *   a per-process directory (`client-directory.ts`), so the application list is not read per organization.
 * - Creates that meet a 409 look the object up and adopt it only when it is tagged as this organization's.
 */
import { randomBytes } from 'node:crypto';

import { ManagementClient, type Management } from 'auth0';

import { ORG_ADMIN_ROLE } from '../../domain/naming.js';
import { RESERVED_METADATA_PREFIX, type OrgSpec } from '../../domain/org-spec.js';
import {
  OPTIONS_TAG,
  OWNER_TAG,
  type Observed,
  type ObservedClient,
  type ObservedConnection,
  type OrgConnectionSettings,
  type OrgSettings,
  type Step,
  type UrlLists,
} from '../../domain/plan.js';
import {
  Auth0Failure,
  type AdminOnboardingResult,
  type Auth0Tenant,
  type Catalog,
  type ObserveRequest,
  type Reconciliation,
  type StepContext,
  type TenantOrganization,
  type StepOutcome,
} from '../../ports/auth0-tenant.js';
import { classifyAuth0Error } from './classify.js';
import { ClientDirectory, type ClientEntry } from './client-directory.js';
import { budgetedFetch, rateBudgetFor, type RateBudget, type RateLimitOptions } from './rate-budget.js';

/** Metadata key naming the run that created (or last changed) an object, for diagnosis. */
export const RUN_TAG = `${RESERVED_METADATA_PREFIX}run`;

/** Auth0's limit on organization metadata properties. */
const MAX_METADATA_KEYS = 25;

/**
 * The user's metadata with the ownership tag, and the run tag when it fits: user metadata may use 24 of Auth0's 25
 * keys (one is kept for the ownership tag), so with 24 user keys the run tag is left out.
 */
function taggedMetadata(
  user: Record<string, string>,
  orgName: string,
  runId: string,
): Record<string, string> {
  const fits = Object.keys(user).length + 2 <= MAX_METADATA_KEYS;
  return { ...user, [OWNER_TAG]: orgName, ...(fits ? { [RUN_TAG]: runId } : {}) };
}

/** At most this many clients per `PATCH /connections/{id}/clients` (Auth0's limit). */
const ENABLED_CLIENTS_BATCH = 50;
const PAGE_SIZE = 100;

export interface SdkTenantCredentials {
  /** The tenant's domain (`tenant.eu.auth0.com`, or `127.0.0.1:port` for auth0-local). */
  domain: string;
  clientId: string;
  clientSecret: string;
  /** Per-request timeout (default 30 s); time spent waiting for the rate budget does not count. */
  timeoutInSeconds?: number | undefined;
  /**
   * The client-side rate budget (`rate-budget.ts`): the tenant's plan (e.g. `{ profile: 'enterprise' }` for a
   * public-cloud production tenant), or a budget shared with other clients of the same tenant. Default: none — this
   * function cannot tell a real tenant from auth0-local (whose default is unlimited), so the caller that knows the
   * tenant's plan (configuration, through the composition root) passes it.
   */
  rateLimits?: RateLimitOptions | RateBudget | false | undefined;
  /** Told of every Management API call (by rate-limit bucket and status) when there is a rate budget. */
  onCall?: ((bucket: string, status: number | undefined) => void) | undefined;
}

export interface SdkTenantFromClient {
  domain: string;
  /**
   * An existing client (e.g. a test's); retries are switched off per request regardless of its options. It gets no
   * rate budget (the budget sits in the client's `fetch`).
   */
  client: ManagementClient;
  timeoutInSeconds?: number | undefined;
}

/** The `ManagementClient` orgadmin uses: credentials, a timeout, no SDK retries, and the rate budget. */
export function createManagementClient(options: SdkTenantCredentials): ManagementClient {
  const timeoutInSeconds = options.timeoutInSeconds ?? 30;
  const limits = options.rateLimits ?? false;
  return new ManagementClient({
    domain: options.domain,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    timeoutInSeconds,
    maxRetries: 0,
    ...(limits === false
      ? {}
      : {
          fetch: budgetedFetch(rateBudgetFor(limits), {
            timeoutMs: timeoutInSeconds * 1000,
            onAnswer: options.onCall,
          }),
        }),
  });
}

/** The `Auth0Tenant` port over the `auth0` SDK, from credentials or from an existing `ManagementClient`. */
export function createSdkTenant(options: SdkTenantCredentials | SdkTenantFromClient): Auth0Tenant {
  const client = 'client' in options ? options.client : createManagementClient(options);
  return new SdkTenant(options.domain, client, options.timeoutInSeconds ?? 30);
}

type RequestOptions = { maxRetries: number; timeoutInSeconds: number };

type Metadata = Record<string, string | null | undefined> | undefined;

interface FoundOrg {
  id: string;
  name: string;
  displayName?: string | undefined;
  branding?: OrgSpec['branding'];
  metadata: Record<string, string>;
}

interface FoundConnection {
  id: string;
  name: string;
  strategy: string;
  metadata: Record<string, string>;
}

interface FoundUser {
  userId: string;
  email: string;
  owner: string | undefined;
  connections: string[];
}

const permanent = (message: string): Auth0Failure => new Auth0Failure(message, { retryable: false });

const isNotFound = (error: unknown): boolean => error instanceof Auth0Failure && error.details.status === 404;
const isConflict = (error: unknown): boolean => error instanceof Auth0Failure && error.details.status === 409;

/** String-valued metadata only (Auth0 stores no nulls; the SDK types allow them). */
function stringMetadata(metadata: Metadata): Record<string, string> {
  return Object.fromEntries(
    Object.entries(metadata ?? {}).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}

function brandingToAuth0(branding: OrgSpec['branding']): Management.OrganizationBranding | undefined {
  if (!branding) return undefined;
  return {
    ...(branding.logoUrl ? { logo_url: branding.logoUrl } : {}),
    ...(branding.colors
      ? { colors: { primary: branding.colors.primary, page_background: branding.colors.pageBackground } }
      : {}),
  };
}

function brandingFromAuth0(
  branding: Management.OrganizationBranding | null | undefined,
): OrgSpec['branding'] {
  if (!branding) return undefined;
  const logoUrl = branding.logo_url;
  const colors = branding.colors;
  if (!logoUrl && !colors) return undefined;
  return {
    ...(logoUrl ? { logoUrl } : {}),
    ...(colors ? { colors: { primary: colors.primary, pageBackground: colors.page_background } } : {}),
  };
}

function orgSettingsFromAuth0(
  settings: OrgConnectionSettings,
): Required<Management.UpdateOrganizationConnectionRequestContent> {
  return {
    assign_membership_on_login: settings.assignMembershipOnLogin,
    show_as_button: settings.showAsButton,
    is_signup_enabled: settings.isSignupEnabled,
  };
}

function orgConnectionSettings(item: Management.OrganizationConnection): OrgConnectionSettings {
  return {
    assignMembershipOnLogin: item.assign_membership_on_login ?? false,
    showAsButton: item.show_as_button ?? true,
    isSignupEnabled: item.is_signup_enabled ?? false,
  };
}

const sameSettings = (a: OrgConnectionSettings, b: OrgConnectionSettings): boolean =>
  a.assignMembershipOnLogin === b.assignMembershipOnLogin &&
  a.showAsButton === b.showAsButton &&
  a.isSignupEnabled === b.isSignupEnabled;

/** Order-insensitive JSON for comparing settings (the planner's own comparison is equivalent). */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

function userMetadataOnly(metadata: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(metadata).filter(([key]) => !key.startsWith(RESERVED_METADATA_PREFIX)),
  );
}

/**
 * A password nobody knows: 32 random bytes, plus one character of each class so any Auth0 password policy accepts
 * it. Never stored, returned or logged; the administrator sets their own through the password-change ticket.
 */
function randomPassword(): string {
  for (;;) {
    const candidate = `${randomBytes(32).toString('base64url')}aZ7!`;
    if (!/(.)\1\1/.test(candidate)) return candidate;
  }
}

const chunks = <T>(items: T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, index) =>
    items.slice(index * size, index * size + size),
  );

/** What the reconciler reads of an application: its name (to tell a stale id) and its three URL lists. */
const CLIENT_URL_FIELDS = 'client_id,name,callbacks,allowed_logout_urls,web_origins';

class SdkTenant implements Auth0Tenant {
  private readonly options: RequestOptions;
  private readonly clients = new ClientDirectory(() => this.listClients());

  constructor(
    readonly domain: string,
    private readonly api: ManagementClient,
    timeoutInSeconds: number,
  ) {
    this.options = { maxRetries: 0, timeoutInSeconds };
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The one wrapper around the SDK.

  private async call<T>(operation: string, run: (options: RequestOptions) => Promise<T>): Promise<T> {
    try {
      return await run(this.options);
    } catch (error) {
      throw classifyAuth0Error(error, operation);
    }
  }

  /** Every item of a paged list (all pages inside one classified call). */
  private all<T>(
    operation: string,
    first: (options: RequestOptions) => Promise<AsyncIterable<T>>,
  ): Promise<T[]> {
    return this.call(operation, async (options) => {
      const items: T[] = [];
      for await (const item of await first(options)) items.push(item);
      return items;
    });
  }

  /** The call's result, or undefined on a 404. */
  private async optional<T>(promise: Promise<T>): Promise<T | undefined> {
    try {
      return await promise;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Lookups by natural key.

  private async orgByName(name: string): Promise<FoundOrg | undefined> {
    const org = await this.optional(
      this.call(`GET /organizations/name/${name}`, (o) => this.api.organizations.getByName(name, o)),
    );
    if (!org?.id) return undefined;
    return {
      id: org.id,
      name: org.name ?? name,
      ...(org.display_name ? { displayName: org.display_name } : {}),
      ...(brandingFromAuth0(org.branding) ? { branding: brandingFromAuth0(org.branding) } : {}),
      metadata: stringMetadata(org.metadata),
    };
  }

  /** The organization's id: recorded by an earlier step, else found by name and required to be ours. */
  private async ownOrgId(context: StepContext): Promise<string | undefined> {
    const known = context.ids['organization'];
    if (known) return known;
    const org = await this.orgByName(context.orgName);
    if (!org) return undefined;
    if (org.metadata[OWNER_TAG] !== context.orgName) {
      throw permanent(`organization ${context.orgName} exists but was not created by orgadmin for it`);
    }
    return org.id;
  }

  private async requireOrgId(context: StepContext): Promise<string> {
    const id = await this.ownOrgId(context);
    if (!id) throw permanent(`organization ${context.orgName} does not exist`);
    return id;
  }

  private async connectionByName(name: string): Promise<FoundConnection | undefined> {
    const page = await this.call(`GET /connections?name=${name}`, (o) =>
      this.api.connections.list({ name, take: 10 }, o),
    );
    const found = page.data.find((connection) => connection.name === name);
    if (!found?.id) return undefined;
    return {
      id: found.id,
      name,
      strategy: found.strategy ?? '',
      metadata: stringMetadata(found.metadata),
    };
  }

  private async connectionId(name: string, context: StepContext): Promise<string | undefined> {
    return context.ids[`connection:${name}`] ?? (await this.connectionByName(name))?.id;
  }

  private async requireConnectionId(name: string, context: StepContext): Promise<string> {
    const id = await this.connectionId(name, context);
    if (!id) throw permanent(`connection ${name} does not exist`);
    return id;
  }

  private async listClients(): Promise<ClientEntry[]> {
    const clients = await this.all('GET /clients', (o) =>
      this.api.clients.list({ fields: 'client_id,name', include_fields: true, per_page: PAGE_SIZE }, o),
    );
    return clients
      .filter((client) => typeof client.client_id === 'string')
      .map((client) => ({ clientId: client.client_id!, name: client.name ?? '' }));
  }

  private async requireClientIds(names: string[]): Promise<Record<string, string>> {
    const ids: Record<string, string> = {};
    for (const name of names) {
      const id = await this.clients.idOf(name);
      if (!id) throw permanent(`no application is named ${name}`);
      ids[name] = id;
    }
    return ids;
  }

  /**
   * `use` with the ids of the named applications. A 404 may mean a cached id is stale (the application was deleted,
   * perhaps created again under its name): when asking the directory again gives any of them another id, `use` runs
   * once more with the new ids.
   */
  private async withClientIds<T>(
    names: string[],
    use: (ids: Record<string, string>) => Promise<T>,
  ): Promise<T> {
    const ids = await this.requireClientIds(names);
    const version = this.clients.version;
    try {
      return await use(ids);
    } catch (error) {
      if (!isNotFound(error) || names.length === 0) throw error;
      await this.clients.relistAfter(version);
      const fresh = await this.requireClientIds(names);
      if (names.every((name) => fresh[name] === ids[name])) throw error;
      return use(fresh);
    }
  }

  private async roleByName(name: string): Promise<string | undefined> {
    const roles = await this.all(`GET /roles?name_filter=${name}`, (o) =>
      this.api.roles.list({ name_filter: name, per_page: PAGE_SIZE }, o),
    );
    return roles.find((role) => role.name === name)?.id;
  }

  private async usersByEmail(email: string): Promise<FoundUser[]> {
    const users = await this.call('GET /users-by-email', (o) =>
      this.api.users.listUsersByEmail({ email }, o),
    );
    return users
      .filter((user) => typeof user.user_id === 'string')
      .map((user) => {
        const owner = user.app_metadata?.[OWNER_TAG];
        return {
          userId: user.user_id!,
          email: user.email ?? email,
          owner: typeof owner === 'string' ? owner : undefined,
          connections: (user.identities ?? []).map((identity) => identity.connection ?? ''),
        };
      });
  }

  /** The administrator orgadmin created for this organization: recorded id, else the tagged user with the email. */
  private async ownUserId(email: string, context: StepContext): Promise<string | undefined> {
    const known = context.ids[`user:${email}`];
    if (known) return known;
    const ours = (await this.usersByEmail(email)).filter((user) => user.owner === context.orgName);
    if (ours.length > 1)
      throw permanent(`${ours.length} users with email ${email} are tagged for ${context.orgName}`);
    return ours[0]?.userId;
  }

  private async requireOwnUserId(email: string, context: StepContext): Promise<string> {
    const id = await this.ownUserId(email, context);
    if (!id) throw permanent(`no user ${email} created by orgadmin for ${context.orgName} exists`);
    return id;
  }

  private orgConnections(orgId: string): Promise<Management.OrganizationConnection[]> {
    return this.all(`GET /organizations/${orgId}/enabled_connections`, (o) =>
      this.api.organizations.enabledConnections.list(orgId, { per_page: PAGE_SIZE }, o),
    );
  }

  private async orgConnection(
    orgId: string,
    connectionId: string,
  ): Promise<OrgConnectionSettings | undefined> {
    const item = await this.optional(
      this.call(`GET /organizations/${orgId}/enabled_connections/${connectionId}`, (o) =>
        this.api.organizations.enabledConnections.get(orgId, connectionId, o),
      ),
    );
    return item ? orgConnectionSettings(item) : undefined;
  }

  private async enabledClientIds(connectionId: string): Promise<string[]> {
    const clients = await this.all(`GET /connections/${connectionId}/clients`, (o) =>
      this.api.connections.clients.get(connectionId, { take: PAGE_SIZE }, o),
    );
    return clients.map((client) => client.client_id);
  }

  /** A pending (unexpired) invitation for this email, optionally for one application. */
  private async invitationFor(
    orgId: string,
    email: string,
    clientId?: string,
  ): Promise<Management.OrganizationInvitation | undefined> {
    const invitations = await this.all(`GET /organizations/${orgId}/invitations`, (o) =>
      this.api.organizations.invitations.list(orgId, { per_page: PAGE_SIZE }, o),
    );
    const now = Date.now();
    return invitations.find(
      (invitation) =>
        invitation.invitee?.email.toLowerCase() === email.toLowerCase() &&
        (clientId === undefined || invitation.client_id === clientId) &&
        (invitation.expires_at === undefined || Date.parse(invitation.expires_at) > now),
    );
  }

  // ---------------------------------------------------------------------------------------------------------------
  // observe

  async observe(request: ObserveRequest): Promise<Observed> {
    const clientNames = [...new Set(request.clientNames)];
    const [org, clientIds, roleId, users] = await Promise.all([
      this.orgByName(request.orgName),
      Promise.all(clientNames.map(async (name) => [name, await this.clients.idOf(name)] as const)),
      this.roleByName(request.adminRoleName),
      request.adminEmail ? this.usersByEmail(request.adminEmail) : Promise.resolve([]),
    ]);
    const onOrg = new Map(
      (org ? await this.orgConnections(org.id) : []).map((item) => [item.connection_id, item] as const),
    );

    const connections = await Promise.all(
      [...new Set(request.connectionNames)].map(async (name): Promise<ObservedConnection | undefined> => {
        const found = await this.connectionByName(name);
        if (!found) return undefined;
        const enabled = new Set(await this.enabledClientIds(found.id));
        const item = onOrg.get(found.id);
        return {
          ...found,
          ...(item ? { onOrg: orgConnectionSettings(item) } : {}),
          // The spec's applications only: the planner asks about no other.
          enabledClientNames: clientIds.flatMap(([clientName, id]) =>
            id !== undefined && enabled.has(id) ? [clientName] : [],
          ),
        };
      }),
    );

    // A run leaves the URL lists to its reconciler; a plan shown to people reads them (one GET per application).
    let observedClients: ObservedClient[] | undefined;
    if (request.clientUrls) {
      const read = await Promise.all(clientNames.map((name) => this.readClientUrls(name)));
      observedClients = clientNames.flatMap((name, index) => {
        const client = read[index];
        if (!client) return [];
        const { callbacks, logoutUrls, webOrigins } = client;
        return [{ name, callbacks, logoutUrls, webOrigins }];
      });
    }

    let admin: Observed['admin'];
    if (request.adminEmail) {
      const email = request.adminEmail;
      if (users.some((user) => user.owner === request.orgName)) admin = { email, createdByOrgadmin: true };
      else if (users.length > 0) admin = { email, createdByOrgadmin: false };
      else if (org && (await this.invitationFor(org.id, email))) admin = { email, createdByOrgadmin: false };
    }

    return {
      ...(org ? { organization: org } : {}),
      connections: connections.filter((connection) => connection !== undefined),
      ...(observedClients ? { clients: observedClients } : {}),
      adminRoleExists: roleId !== undefined,
      ...(admin ? { admin } : {}),
    };
  }

  // ---------------------------------------------------------------------------------------------------------------
  // import (GitOps' `gitops init --from-tenant`)

  async listOrganizations(): Promise<TenantOrganization[]> {
    const orgs = await this.all('GET /organizations', (o) => this.api.organizations.list({ take: 50 }, o));
    const result: TenantOrganization[] = [];
    // One organization at a time: an import of thousands stays inside the rate budget without a burst.
    for (const org of orgs) {
      if (!org.id || !org.name) continue;
      const metadata = stringMetadata(org.metadata);
      const connections: TenantOrganization['connections'] = [];
      for (const link of await this.orgConnections(org.id)) {
        const name = link.connection?.name;
        if (!name) continue;
        const found = await this.connectionByName(name);
        const owner = found?.metadata[OWNER_TAG];
        let options: Record<string, unknown> | undefined;
        if (found && owner !== undefined && found.strategy === 'auth0') {
          const full = await this.call(`GET /connections/${found.id}`, (o) =>
            this.api.connections.get(found.id, {}, o),
          );
          options = full.options ?? {};
        }
        connections.push({
          name,
          strategy: found?.strategy ?? link.connection?.strategy ?? '',
          owner,
          ...(options ? { options } : {}),
          settings: orgConnectionSettings(link),
        });
      }
      result.push({
        name: org.name,
        ...(org.display_name ? { displayName: org.display_name } : {}),
        ...(brandingFromAuth0(org.branding) ? { branding: brandingFromAuth0(org.branding) } : {}),
        metadata: Object.fromEntries(
          Object.entries(metadata).filter(([key]) => !key.startsWith('orgadmin_')),
        ),
        owner: metadata[OWNER_TAG],
        connections,
      });
    }
    return result;
  }

  async adoptOrganization(name: string): Promise<void> {
    const org = await this.orgByName(name);
    if (!org) throw permanent(`organization ${name} does not exist`);
    const owner = org.metadata[OWNER_TAG];
    if (owner === name) return;
    if (owner !== undefined)
      throw permanent(`organization ${name} is tagged as orgadmin's ${owner}; not adopting it`);
    await this.call(`PATCH /organizations/${org.id}`, (o) =>
      this.api.organizations.update(org.id, { metadata: { [OWNER_TAG]: name } }, o),
    );
  }

  // ---------------------------------------------------------------------------------------------------------------
  // catalog

  async catalog(): Promise<Catalog> {
    const [connections, clients] = await Promise.all([
      this.all('GET /connections', (o) =>
        this.api.connections.list(
          { take: PAGE_SIZE, fields: 'name,strategy,metadata', include_fields: true },
          o,
        ),
      ),
      this.clients.list(),
    ]);
    return {
      // Connections an organization owns are its own business, not something another spec may share.
      connections: connections
        .filter(
          (connection) => connection.name && stringMetadata(connection.metadata)[OWNER_TAG] === undefined,
        )
        .map((connection) => ({ name: connection.name!, strategy: connection.strategy ?? '' }))
        .sort((a, b) => a.name.localeCompare(b.name)),
      clients: clients
        .map(({ name, clientId }) => ({ name, clientId }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    };
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Client URLs (the engine's serialized reconciler).

  async readClientUrls(clientName: string): Promise<({ clientId: string } & UrlLists) | undefined> {
    let wrong: string | undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      const clientId = await this.clients.idOf(clientName, wrong);
      if (!clientId) return undefined;
      const client = await this.optional(
        this.call(`GET /clients/${clientId}`, (o) =>
          this.api.clients.get(clientId, { fields: CLIENT_URL_FIELDS, include_fields: true }, o),
        ),
      );
      if (client?.name === clientName) {
        return {
          clientId,
          callbacks: client.callbacks ?? [],
          logoutUrls: client.allowed_logout_urls ?? [],
          webOrigins: client.web_origins ?? [],
        };
      }
      // Deleted (perhaps created again under the name) or renamed since the directory listed it.
      wrong = clientId;
    }
    throw new Auth0Failure(`application ${clientName} changed while it was being read; will retry`, {
      retryable: true,
    });
  }

  async writeClientUrls(clientId: string, urls: UrlLists): Promise<void> {
    try {
      await this.call(`PATCH /clients/${clientId}`, (o) =>
        this.api.clients.update(
          clientId,
          { callbacks: urls.callbacks, allowed_logout_urls: urls.logoutUrls, web_origins: urls.webOrigins },
          o,
        ),
      );
    } catch (error) {
      // Deleted since the reconciler read it: its next attempt finds the application by name again (or not at all).
      if (!isNotFound(error)) throw error;
      throw new Auth0Failure(
        `PATCH /clients/${clientId}: the application was deleted while being written; will retry`,
        { retryable: true, status: 404 },
        { cause: error },
      );
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // execute

  async execute(step: Step, context: StepContext): Promise<StepOutcome & AdminOnboardingResult> {
    switch (step.kind) {
      case 'create-organization':
        return this.createOrganization(step, context);
      case 'update-organization':
        return this.updateOrganization(step, context);
      case 'delete-organization':
        return this.deleteOrganization(step.name, context);
      case 'create-connection':
        return this.createConnection(step, context);
      case 'update-connection':
        return this.updateConnection(step, context);
      case 'delete-connection':
        return this.deleteConnection(step.connectionName, context);
      case 'enable-connection-for-clients':
        return this.enableConnectionForClients(step, context);
      case 'enable-org-connection':
        return this.enableOrgConnection(step, context);
      case 'update-org-connection':
        return this.updateOrgConnection(step.connectionName, step.settings, context);
      case 'disable-org-connection':
        return this.disableOrgConnection(step.connectionName, context);
      case 'add-client-urls':
      case 'remove-client-urls':
        throw new Error(
          `${step.kind} is carried out by the engine's serialized client-URL reconciler (readClientUrls/writeClientUrls), not by execute()`,
        );
      case 'ensure-admin-role':
        return this.ensureRole(step.roleName);
      case 'invite-admin':
        return this.inviteAdmin(step, context);
      case 'create-admin-user':
        return this.createAdminUser(step, context);
      case 'add-admin-member':
        return this.addAdminMember(step.email, context);
      case 'assign-admin-role':
        return this.assignAdminRole(step.email, step.roleName, context);
      case 'send-password-ticket':
        return this.sendPasswordTicket(step, context);
      case 'delete-admin-user':
        return this.deleteAdminUser(step.email, context);
      case 'call-hook':
        throw new Error('a hook call is not an Auth0 step (the engine sends it)');
      default: {
        const unknown: never = step;
        throw new Error(`unknown step ${JSON.stringify(unknown)}`);
      }
    }
  }

  private async createOrganization(
    step: Extract<Step, { kind: 'create-organization' }>,
    context: StepContext,
  ): Promise<StepOutcome> {
    const { settings } = step;
    const branding = brandingToAuth0(settings.branding);
    try {
      const created = await this.call('POST /organizations', (o) =>
        this.api.organizations.create(
          {
            name: step.name,
            ...(settings.displayName ? { display_name: settings.displayName } : {}),
            ...(branding ? { branding } : {}),
            metadata: taggedMetadata(settings.metadata, step.name, context.runId),
          },
          o,
        ),
      );
      if (!created.id) throw permanent('POST /organizations answered without an id');
      return { ids: { organization: created.id } };
    } catch (error) {
      if (!isConflict(error)) throw error;
      // The name is taken: ours from an earlier attempt (adopt), or someone else's (never adopt).
      const existing = await this.orgByName(step.name);
      if (existing && existing.metadata[OWNER_TAG] === step.name)
        return { ids: { organization: existing.id } };
      throw permanent(
        `an organization named ${step.name} already exists and was not created by orgadmin for it`,
      );
    }
  }

  private async updateOrganization(
    step: Extract<Step, { kind: 'update-organization' }>,
    context: StepContext,
  ): Promise<StepOutcome> {
    const org = await this.orgByName(step.name);
    if (!org) throw permanent(`organization ${step.name} does not exist`);
    if (org.metadata[OWNER_TAG] !== step.name) {
      throw permanent(`organization ${step.name} was not created by orgadmin for it; not updating it`);
    }
    const { changes, previous } = step;
    const body: Management.UpdateOrganizationRequestContent = {};
    // Auth0 offers no way to clear display_name (it must be 1..255 characters): an unset display name is left alone.
    if (changes.displayName !== undefined) body.display_name = changes.displayName;
    if ('branding' in changes) {
      // `null` clears branding (auth0-local accepts it; against a real tenant UNCONFIRMED).
      body.branding =
        brandingToAuth0(changes.branding) ?? (null as unknown as Management.OrganizationBranding);
    }
    if (changes.metadata !== undefined) {
      const wanted = taggedMetadata(changes.metadata, step.name, context.runId);
      // Keys the previous settings had, and a run tag that no longer fits, are removed with `null`.
      const removed = [...Object.keys(previous.metadata ?? {}), RUN_TAG].filter((key) => !(key in wanted));
      const nulls = (keys: string[]): Record<string, null> =>
        Object.fromEntries(keys.map((key) => [key, null]));
      body.metadata = { ...nulls(removed), ...wanted };
      // Auth0 validates metadata objects to at most 25 properties, nulls included: when removals and the new set
      // do not fit one request, the removals go first (at most 25 a request), then the new set.
      if (Object.keys(body.metadata).length > MAX_METADATA_KEYS) {
        for (const batch of chunks(removed, MAX_METADATA_KEYS)) {
          await this.call(`PATCH /organizations/${org.id}`, (o) =>
            this.api.organizations.update(org.id, { metadata: nulls(batch) }, o),
          );
        }
        body.metadata = wanted;
      }
    }
    if (Object.keys(body).length > 0) {
      await this.call(`PATCH /organizations/${org.id}`, (o) =>
        this.api.organizations.update(org.id, body, o),
      );
    }
    return { ids: { organization: org.id } };
  }

  private async deleteOrganization(name: string, context: StepContext): Promise<StepOutcome> {
    const org = await this.orgByName(name);
    if (!org) return {};
    if (org.metadata[OWNER_TAG] !== context.orgName) {
      throw permanent(
        `organization ${name} was not created by orgadmin for ${context.orgName}; not deleting it`,
      );
    }
    await this.optional(
      this.call(`DELETE /organizations/${org.id}`, (o) => this.api.organizations.delete(org.id, o)),
    );
    return {};
  }

  private connectionMetadata(fingerprint: string, context: StepContext): Record<string, string> {
    return { [OWNER_TAG]: context.orgName, [OPTIONS_TAG]: fingerprint, [RUN_TAG]: context.runId };
  }

  private async createConnection(
    step: Extract<Step, { kind: 'create-connection' }>,
    context: StepContext,
  ): Promise<StepOutcome> {
    const { connection } = step;
    const key = `connection:${connection.name}`;
    try {
      const created = await this.call('POST /connections', (o) =>
        this.api.connections.create(
          {
            name: connection.name,
            strategy: connection.strategy as Management.ConnectionIdentityProviderEnum,
            options: connection.options,
            metadata: this.connectionMetadata(connection.fingerprint, context),
          },
          o,
        ),
      );
      if (!created.id) throw permanent('POST /connections answered without an id');
      return { ids: { [key]: created.id } };
    } catch (error) {
      if (!isConflict(error)) throw error;
      const existing = await this.connectionByName(connection.name);
      if (existing && existing.metadata[OWNER_TAG] === context.orgName)
        return { ids: { [key]: existing.id } };
      throw permanent(
        `a connection named ${connection.name} already exists and was not created by orgadmin for ${context.orgName}`,
      );
    }
  }

  private async ownConnection(
    name: string,
    context: StepContext,
    verb: string,
  ): Promise<FoundConnection | undefined> {
    const found = await this.connectionByName(name);
    if (found && found.metadata[OWNER_TAG] !== context.orgName) {
      throw permanent(
        `connection ${name} was not created by orgadmin for ${context.orgName}; not ${verb} it`,
      );
    }
    return found;
  }

  private async updateConnection(
    step: Extract<Step, { kind: 'update-connection' }>,
    context: StepContext,
  ): Promise<StepOutcome> {
    const { connection } = step;
    const found = await this.ownConnection(connection.name, context, 'updating');
    if (!found) throw permanent(`connection ${connection.name} does not exist`);
    await this.call(`PATCH /connections/${found.id}`, (o) =>
      this.api.connections.update(
        found.id,
        {
          // Auth0 replaces `options` whole.
          options: connection.options,
          metadata: this.connectionMetadata(connection.fingerprint, context),
        },
        o,
      ),
    );
    return { ids: { [`connection:${connection.name}`]: found.id } };
  }

  private async deleteConnection(name: string, context: StepContext): Promise<StepOutcome> {
    const found = await this.ownConnection(name, context, 'deleting');
    if (!found) return {};
    // 202 {deleted_at}, or 204 when it is already gone.
    await this.optional(
      this.call(`DELETE /connections/${found.id}`, (o) => this.api.connections.delete(found.id, o)),
    );
    return {};
  }

  private async enableConnectionForClients(
    step: Extract<Step, { kind: 'enable-connection-for-clients' }>,
    context: StepContext,
  ): Promise<StepOutcome> {
    const connectionId = await this.requireConnectionId(step.connectionName, context);
    const ids = await this.withClientIds(step.clientNames, async (clientIds) => {
      const changes = step.clientNames.map((name) => ({ client_id: clientIds[name]!, status: true }));
      // A delta with set semantics: safe to repeat.
      for (const batch of chunks(changes, ENABLED_CLIENTS_BATCH)) {
        await this.call(`PATCH /connections/${connectionId}/clients`, (o) =>
          this.api.connections.clients.update(connectionId, batch, o),
        );
      }
      return clientIds;
    });
    return {
      ids: {
        [`connection:${step.connectionName}`]: connectionId,
        ...Object.fromEntries(Object.entries(ids).map(([name, id]) => [`client:${name}`, id])),
      },
    };
  }

  private async enableOrgConnection(
    step: Extract<Step, { kind: 'enable-org-connection' }>,
    context: StepContext,
  ): Promise<StepOutcome> {
    const orgId = await this.requireOrgId(context);
    const connectionId = await this.requireConnectionId(step.connectionName, context);
    const settings = orgSettingsFromAuth0(step.settings);
    try {
      await this.call(`POST /organizations/${orgId}/enabled_connections`, (o) =>
        this.api.organizations.enabledConnections.add(orgId, { connection_id: connectionId, ...settings }, o),
      );
    } catch (error) {
      if (!isConflict(error)) throw error;
      // Already enabled (an earlier attempt, or by hand): make the settings ours.
      await this.call(`PATCH /organizations/${orgId}/enabled_connections/${connectionId}`, (o) =>
        this.api.organizations.enabledConnections.update(orgId, connectionId, settings, o),
      );
    }
    return { ids: { organization: orgId, [`connection:${step.connectionName}`]: connectionId } };
  }

  private async updateOrgConnection(
    connectionName: string,
    settings: OrgConnectionSettings,
    context: StepContext,
  ): Promise<StepOutcome> {
    const orgId = await this.requireOrgId(context);
    const connectionId = await this.requireConnectionId(connectionName, context);
    await this.call(`PATCH /organizations/${orgId}/enabled_connections/${connectionId}`, (o) =>
      this.api.organizations.enabledConnections.update(
        orgId,
        connectionId,
        orgSettingsFromAuth0(settings),
        o,
      ),
    );
    return {};
  }

  private async disableOrgConnection(connectionName: string, context: StepContext): Promise<StepOutcome> {
    const orgId = await this.ownOrgId(context);
    const connectionId = await this.connectionId(connectionName, context);
    if (!orgId || !connectionId) return {};
    await this.optional(
      this.call(`DELETE /organizations/${orgId}/enabled_connections/${connectionId}`, (o) =>
        this.api.organizations.enabledConnections.delete(orgId, connectionId, o),
      ),
    );
    return {};
  }

  private async ensureRole(roleName: string): Promise<StepOutcome> {
    const key = `role:${roleName}`;
    const existing = await this.roleByName(roleName);
    if (existing) return { ids: { [key]: existing } };
    try {
      // Auth0 answers 200 here, not 201.
      const created = await this.call('POST /roles', (o) =>
        this.api.roles.create({ name: roleName, description: 'Organization administrator (orgadmin)' }, o),
      );
      if (!created.id) throw permanent('POST /roles answered without an id');
      return { ids: { [key]: created.id } };
    } catch (error) {
      if (!isConflict(error)) throw error;
      const raced = await this.roleByName(roleName);
      if (!raced) throw error;
      return { ids: { [key]: raced } };
    }
  }

  private async roleId(roleName: string, context: StepContext): Promise<string | undefined> {
    return context.ids[`role:${roleName}`] ?? (await this.roleByName(roleName));
  }

  private async inviteAdmin(
    step: Extract<Step, { kind: 'invite-admin' }>,
    context: StepContext,
  ): Promise<StepOutcome & AdminOnboardingResult> {
    const orgId = await this.requireOrgId(context);
    if (step.clientName === '') throw permanent('an invitation needs an application; the spec names none');
    const key = `invitation:${step.email}`;
    const connectionId = step.connectionName
      ? await this.requireConnectionId(step.connectionName, context)
      : undefined;
    const roleId = await this.roleId(ORG_ADMIN_ROLE, context);
    return this.withClientIds([step.clientName], async (ids) => {
      const clientId = ids[step.clientName]!;
      // No natural key and no idempotency key: reuse a pending invitation for the same email and application.
      const existing = await this.invitationFor(orgId, step.email, clientId);
      if (existing?.id) return { ids: { [key]: existing.id }, url: existing.invitation_url };
      const invitation = await this.call(`POST /organizations/${orgId}/invitations`, (o) =>
        this.api.organizations.invitations.create(
          orgId,
          {
            inviter: { name: 'orgadmin' },
            invitee: { email: step.email },
            client_id: clientId,
            ...(connectionId ? { connection_id: connectionId } : {}),
            ...(roleId ? { roles: [roleId] } : {}),
            send_invitation_email: true,
          },
          o,
        ),
      );
      return { ids: invitation.id ? { [key]: invitation.id } : {}, url: invitation.invitation_url };
    });
  }

  private async createAdminUser(
    step: Extract<Step, { kind: 'create-admin-user' }>,
    context: StepContext,
  ): Promise<StepOutcome> {
    const key = `user:${step.email}`;
    if (step.connectionName === '') throw permanent('creating the administrator needs a database connection');
    try {
      const created = await this.call('POST /users', (o) =>
        this.api.users.create(
          {
            connection: step.connectionName,
            email: step.email,
            password: randomPassword(),
            email_verified: false,
            // The password-change ticket proves the address; no separate verification email.
            verify_email: false,
            ...(step.name ? { name: step.name } : {}),
            app_metadata: { [OWNER_TAG]: context.orgName },
          },
          o,
        ),
      );
      if (!created.user_id) throw permanent('POST /users answered without a user_id');
      return { ids: { [key]: created.user_id } };
    } catch (error) {
      if (!isConflict(error)) throw error;
      const existing = (await this.usersByEmail(step.email)).find((user) =>
        user.connections.includes(step.connectionName),
      );
      if (existing && existing.owner === context.orgName) return { ids: { [key]: existing.userId } };
      throw permanent(
        `a user ${step.email} already exists in ${step.connectionName} and was not created by orgadmin for ${context.orgName}`,
      );
    }
  }

  private async addAdminMember(email: string, context: StepContext): Promise<StepOutcome> {
    const orgId = await this.requireOrgId(context);
    const userId = await this.requireOwnUserId(email, context);
    await this.call(`POST /organizations/${orgId}/members`, (o) =>
      this.api.organizations.members.create(orgId, { members: [userId] }, o),
    );
    return { ids: { [`user:${email}`]: userId } };
  }

  private async assignAdminRole(email: string, roleName: string, context: StepContext): Promise<StepOutcome> {
    const orgId = await this.requireOrgId(context);
    const userId = await this.requireOwnUserId(email, context);
    const roleId = await this.roleId(roleName, context);
    if (!roleId) throw permanent(`role ${roleName} does not exist`);
    await this.call(`POST /organizations/${orgId}/members/{user}/roles`, (o) =>
      this.api.organizations.members.roles.assign(orgId, userId, { roles: [roleId] }, o),
    );
    return { ids: { [`role:${roleName}`]: roleId } };
  }

  private async sendPasswordTicket(
    step: Extract<Step, { kind: 'send-password-ticket' }>,
    context: StepContext,
  ): Promise<StepOutcome & AdminOnboardingResult> {
    const userId = await this.requireOwnUserId(step.email, context);
    const orgId = await this.ownOrgId(context);
    const clientName = step.clientName;
    return this.withClientIds(clientName ? [clientName] : [], async (ids) => {
      const clientId = clientName ? ids[clientName] : undefined;
      const ticket = await this.call('POST /tickets/password-change', (o) =>
        this.api.tickets.changePassword(
          {
            user_id: userId,
            ...(orgId ? { organization_id: orgId } : {}),
            ...(clientId ? { client_id: clientId } : {}),
            mark_email_as_verified: true,
          },
          o,
        ),
      );
      return { url: ticket.ticket };
    });
  }

  private async deleteAdminUser(email: string, context: StepContext): Promise<StepOutcome> {
    // Only the user orgadmin created for this organization; anyone else with the address is left alone.
    const userId = await this.ownUserId(email, context);
    if (!userId) return {};
    await this.optional(this.call('DELETE /users/{id}', (o) => this.api.users.delete(userId, o)));
    return {};
  }

  // ---------------------------------------------------------------------------------------------------------------
  // reconcile

  async reconcile(step: Step, context: StepContext): Promise<Reconciliation> {
    const done = (ids?: Record<string, string>): Reconciliation => ({
      state: 'done',
      outcome: ids ? { ids } : {},
    });
    const absent: Reconciliation = { state: 'absent' };
    const foreign = (message: string): Reconciliation => ({ state: 'foreign', message });
    const foreignOrg = (): Reconciliation =>
      foreign(`an organization named ${context.orgName} exists but was not created by orgadmin for it`);

    switch (step.kind) {
      case 'create-organization':
      case 'update-organization':
      case 'delete-organization': {
        const org = await this.orgByName(step.name);
        if (!org) return step.kind === 'delete-organization' ? done() : absent;
        if (org.metadata[OWNER_TAG] !== step.name) {
          return foreign(`an organization named ${step.name} exists but was not created by orgadmin for it`);
        }
        if (step.kind === 'delete-organization') return absent;
        if (step.kind === 'create-organization') return done({ organization: org.id });
        return SdkTenant.orgMatches(org, step.changes) ? done({ organization: org.id }) : absent;
      }
      case 'create-connection':
      case 'update-connection':
      case 'delete-connection': {
        const name = step.kind === 'delete-connection' ? step.connectionName : step.connection.name;
        const found = await this.connectionByName(name);
        if (!found) return step.kind === 'delete-connection' ? done() : absent;
        if (found.metadata[OWNER_TAG] !== context.orgName) {
          return foreign(
            `a connection named ${name} exists but was not created by orgadmin for ${context.orgName}`,
          );
        }
        if (step.kind === 'delete-connection') return absent;
        if (
          step.kind === 'update-connection' &&
          found.metadata[OPTIONS_TAG] !== step.connection.fingerprint
        ) {
          return absent;
        }
        return done({ [`connection:${name}`]: found.id });
      }
      case 'enable-connection-for-clients': {
        const found = await this.connectionByName(step.connectionName);
        if (!found) return absent;
        const enabled = new Set(await this.enabledClientIds(found.id));
        const ids: Record<string, string> = { [`connection:${step.connectionName}`]: found.id };
        for (const name of step.clientNames) {
          // A stale cached id reads as absent: carrying the step out again is harmless and asks afresh.
          const clientId = await this.clients.idOf(name);
          if (!clientId || !enabled.has(clientId)) return absent;
          ids[`client:${name}`] = clientId;
        }
        return done(ids);
      }
      case 'enable-org-connection':
      case 'update-org-connection':
      case 'disable-org-connection': {
        const disabling = step.kind === 'disable-org-connection';
        const org = await this.orgByName(context.orgName);
        if (org && org.metadata[OWNER_TAG] !== context.orgName) return foreignOrg();
        const found = await this.connectionByName(step.connectionName);
        if (!org || !found) return disabling ? done() : absent;
        const current = await this.orgConnection(org.id, found.id);
        if (disabling) return current ? absent : done();
        if (!current || !sameSettings(current, step.settings)) return absent;
        return done({ organization: org.id, [`connection:${step.connectionName}`]: found.id });
      }
      case 'add-client-urls':
      case 'remove-client-urls': {
        const client = await this.readClientUrls(step.clientName);
        if (!client) return step.kind === 'remove-client-urls' ? done() : absent;
        const lists: (keyof UrlLists)[] = ['callbacks', 'logoutUrls', 'webOrigins'];
        const adding = step.kind === 'add-client-urls';
        const settled = lists.every((list) =>
          step.urls[list].every((url) => client[list].includes(url) === adding),
        );
        return settled ? done({ [`client:${step.clientName}`]: client.clientId }) : absent;
      }
      case 'ensure-admin-role': {
        const id = await this.roleByName(step.roleName);
        return id ? done({ [`role:${step.roleName}`]: id }) : absent;
      }
      case 'invite-admin': {
        const org = await this.orgByName(context.orgName);
        if (org && org.metadata[OWNER_TAG] !== context.orgName) return foreignOrg();
        if (!org) return absent;
        const invitation = await this.invitationFor(org.id, step.email);
        return invitation?.id ? done({ [`invitation:${step.email}`]: invitation.id }) : absent;
      }
      case 'create-admin-user': {
        const existing = (await this.usersByEmail(step.email)).find((user) =>
          user.connections.includes(step.connectionName),
        );
        if (!existing) return absent;
        if (existing.owner !== context.orgName) {
          return foreign(
            `a user ${step.email} exists in ${step.connectionName} but was not created by orgadmin for ${context.orgName}`,
          );
        }
        return done({ [`user:${step.email}`]: existing.userId });
      }
      case 'assign-admin-role': {
        const org = await this.orgByName(context.orgName);
        if (org && org.metadata[OWNER_TAG] !== context.orgName) return foreignOrg();
        const userId = await this.ownUserId(step.email, context);
        if (!org || !userId) return absent;
        const roles = await this.all(`GET /organizations/${org.id}/members/{user}/roles`, (o) =>
          this.api.organizations.members.roles.list(org.id, userId, { per_page: PAGE_SIZE }, o),
        );
        const role = roles.find((item) => item.name === step.roleName);
        return role?.id ? done({ [`role:${step.roleName}`]: role.id }) : absent;
      }
      // Adding a member is idempotent (204 again), and a ticket is cheap to make again.
      case 'add-admin-member':
      case 'send-password-ticket':
        return absent;
      case 'delete-admin-user':
        return (await this.ownUserId(step.email, { ...context, ids: {} })) ? absent : done();
      case 'call-hook':
        throw new Error('a hook call is not an Auth0 step (the engine sends it)');
      default: {
        const unknown: never = step;
        throw new Error(`unknown step ${JSON.stringify(unknown)}`);
      }
    }
  }

  /** Whether the organization already carries the changed fields of an update step. */
  private static orgMatches(org: FoundOrg, changes: Partial<OrgSettings>): boolean {
    if (
      'displayName' in changes &&
      changes.displayName !== undefined &&
      org.displayName !== changes.displayName
    ) {
      return false;
    }
    if ('branding' in changes && canonical(org.branding) !== canonical(changes.branding)) return false;
    if (
      changes.metadata !== undefined &&
      canonical(userMetadataOnly(org.metadata)) !== canonical(changes.metadata)
    ) {
      return false;
    }
    return true;
  }
}
