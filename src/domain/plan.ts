/**
 * Planning: from the desired spec, the spec this organization last had applied, and what was observed in Auth0, the
 * ordered list of steps that brings Auth0 to the desired state — and nothing else. Pure: no I/O, no clock, no
 * randomness; the same inputs always give the same plan, which is what `--dry-run` shows and what a run executes.
 *
 * Ownership decides what a plan may touch. Objects orgadmin created carry a tag (organization and connection
 * `metadata.orgadmin_org`); a plan updates or deletes only tagged objects of this organization. Shared objects (a
 * shared connection, an application's URL lists) are only ever added to, and on removal only this organization's
 * own URLs — the ones in its last applied spec — are taken off again.
 *
 * Applications' URL lists are planned from the specs alone when a run plans (it does not read them: the serialized
 * reconciler reads each list under its lock and writes only the difference); a plan shown to people reads them, so
 * it lists only what is missing.
 *
 * The application's hooks (issue 7) are steps too: planned here, in the same journal, with the same guarantees.
 */
import type { HookPhase } from './app-hooks.js';
import { connectionNameFor, ORG_ADMIN_ROLE, STRATEGY_OF } from './naming.js';
import {
  connectionKind,
  RESERVED_METADATA_PREFIX,
  type ApplicationSpec,
  type ConnectionKind,
  type ConnectionSpec,
  type OrgSpec,
} from './org-spec.js';
import { sha256Hex } from './sha256.js';

/** Metadata key naming the organization an Auth0 object was created for. */
export const OWNER_TAG = `${RESERVED_METADATA_PREFIX}org`;
/** Connection metadata key holding a fingerprint of the options orgadmin last set. */
export const OPTIONS_TAG = `${RESERVED_METADATA_PREFIX}options`;

export interface OrgSettings {
  displayName?: string | undefined;
  branding?: OrgSpec['branding'];
  /** The user's metadata only (no orgadmin tags). */
  metadata: Record<string, string>;
}

export interface ObservedConnection {
  id: string;
  name: string;
  strategy: string;
  metadata: Record<string, string>;
  /** Set when the connection is enabled on this organization. */
  onOrg?: OrgConnectionSettings | undefined;
  enabledClientNames: string[];
}

export interface OrgConnectionSettings {
  assignMembershipOnLogin: boolean;
  showAsButton: boolean;
  isSignupEnabled: boolean;
}

export interface ObservedClient {
  name: string;
  callbacks: string[];
  logoutUrls: string[];
  webOrigins: string[];
}

/** What Auth0 holds for the organization, read just before planning. */
export interface Observed {
  organization?:
    | ({ id: string; name: string } & Omit<OrgSettings, 'metadata'> & { metadata: Record<string, string> })
    | undefined;
  /** Every connection the desired or applied spec names (derived or shared), as found by name. */
  connections: ObservedConnection[];
  /**
   * Every application the desired or applied spec names, as found by name, with its URL lists — or undefined when
   * they were not read (a run's planning): URL steps then come from the specs alone.
   */
  clients?: ObservedClient[] | undefined;
  adminRoleExists: boolean;
  /** The organization's first administrator, if onboarding already happened. */
  admin?: { email: string; createdByOrgadmin: boolean } | undefined;
}

export interface DesiredConnection {
  name: string;
  kind: Exclude<ConnectionKind, 'shared'>;
  strategy: string;
  /** Auth0 `options` (may hold secrets: never print them). */
  options: Record<string, unknown>;
  fingerprint: string;
}

export type UrlLists = { callbacks: string[]; logoutUrls: string[]; webOrigins: string[] };

export type Step =
  | { kind: 'create-organization'; key: string; name: string; settings: OrgSettings }
  | {
      kind: 'update-organization';
      key: string;
      name: string;
      changes: Partial<OrgSettings>;
      previous: Partial<OrgSettings>;
    }
  | { kind: 'delete-organization'; key: string; name: string }
  | { kind: 'create-connection'; key: string; connection: DesiredConnection }
  | { kind: 'update-connection'; key: string; connection: DesiredConnection }
  | { kind: 'delete-connection'; key: string; connectionName: string }
  | { kind: 'enable-connection-for-clients'; key: string; connectionName: string; clientNames: string[] }
  | { kind: 'enable-org-connection'; key: string; connectionName: string; settings: OrgConnectionSettings }
  | {
      kind: 'update-org-connection';
      key: string;
      connectionName: string;
      settings: OrgConnectionSettings;
      previous: OrgConnectionSettings;
    }
  | { kind: 'disable-org-connection'; key: string; connectionName: string }
  | { kind: 'add-client-urls'; key: string; clientName: string; urls: UrlLists }
  | { kind: 'remove-client-urls'; key: string; clientName: string; urls: UrlLists }
  | { kind: 'ensure-admin-role'; key: string; roleName: string }
  | {
      kind: 'invite-admin';
      key: string;
      email: string;
      name?: string | undefined;
      clientName: string;
      connectionName?: string | undefined;
    }
  | {
      kind: 'create-admin-user';
      key: string;
      email: string;
      name?: string | undefined;
      connectionName: string;
    }
  | { kind: 'add-admin-member'; key: string; email: string }
  | { kind: 'assign-admin-role'; key: string; email: string; roleName: string }
  | { kind: 'send-password-ticket'; key: string; email: string; clientName?: string | undefined }
  | { kind: 'delete-admin-user'; key: string; email: string }
  | {
      kind: 'call-hook';
      key: string;
      hook: string;
      phase: HookPhase;
      /** Whether the hook subscribes to `on-compensate`: an accepted call is then undone by one. */
      compensate: boolean;
      /** For an `on-compensate` call: the phase it undoes. */
      compensates?: HookPhase | undefined;
    };

export type StepKind = Step['kind'];

/** What a completed step did beyond the ids it learnt, journaled with it: what its compensation undoes. */
export interface StepResult {
  /** add-client-urls: the URLs the reconciler actually put on the client (those already there are not listed). */
  addedUrls?: UrlLists | undefined;
}

export interface PlanInput {
  /** The desired spec; undefined removes the organization. */
  desired: OrgSpec | undefined;
  /** The spec this organization last had applied successfully (from orgadmin's database), if any. */
  applied: OrgSpec | undefined;
  observed: Observed;
  /** The application's hooks (issue 7): their calls become steps of the plan. */
  hooks?: PlannedHook[] | undefined;
}

/** A configured application hook as the planner sees it. */
export interface PlannedHook {
  name: string;
  phases: readonly HookPhase[];
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function domainAliases(entry: ConnectionSpec): Record<string, unknown> {
  return 'domains' in entry && entry.domains && entry.domains.length > 0
    ? { domain_aliases: entry.domains }
    : {};
}

/** The Auth0 `options` for a connection entry. */
export function connectionOptions(entry: ConnectionSpec): Record<string, unknown> {
  if ('database' in entry) {
    return {
      passwordPolicy: entry.database.passwordPolicy ?? 'good',
      requires_username: entry.database.requiresUsername ?? false,
      brute_force_protection: true,
    };
  }
  if ('saml' in entry) {
    const saml = entry.saml;
    return {
      ...(saml.metadataUrl ? { metadataUrl: saml.metadataUrl } : {}),
      ...(saml.metadataXml ? { metadataXml: saml.metadataXml } : {}),
      ...(saml.signInEndpoint ? { signInEndpoint: saml.signInEndpoint, signingCert: saml.signingCert } : {}),
      ...(saml.signOutEndpoint ? { signOutEndpoint: saml.signOutEndpoint } : {}),
      ...domainAliases(entry),
    };
  }
  if ('oidc' in entry) {
    return {
      discovery_url: entry.oidc.discoveryUrl,
      client_id: entry.oidc.clientId,
      ...(entry.oidc.clientSecret ? { client_secret: entry.oidc.clientSecret } : {}),
      type: entry.oidc.type ?? (entry.oidc.clientSecret ? 'back_channel' : 'front_channel'),
      scope: entry.oidc.scope ?? 'openid profile email',
      ...domainAliases(entry),
    };
  }
  // Azure AD, Okta and Google Workspace take the same credentials; Azure AD and Google also key users by tenant domain.
  const directory =
    'azureAd' in entry
      ? entry.azureAd
      : 'okta' in entry
        ? entry.okta
        : 'googleWorkspace' in entry
          ? entry.googleWorkspace
          : undefined;
  if (directory) {
    const { domain, clientId, clientSecret } = directory;
    return {
      domain,
      ...('okta' in entry ? {} : { tenant_domain: domain }),
      client_id: clientId,
      client_secret: clientSecret,
      ...domainAliases(entry),
    };
  }
  if ('adfs' in entry) {
    return {
      ...(entry.adfs.metadataUrl ? { adfs_server: entry.adfs.metadataUrl } : {}),
      ...(entry.adfs.metadataXml ? { fedMetadataXml: entry.adfs.metadataXml } : {}),
      ...domainAliases(entry),
    };
  }
  throw new Error('unreachable: a shared connection has no options');
}

/** The connections orgadmin creates for this organization (everything but `shared`). */
export function desiredConnections(spec: OrgSpec): DesiredConnection[] {
  return spec.connections.flatMap((entry) => {
    const kind = connectionKind(entry);
    if (kind === 'shared') return [];
    const options = connectionOptions(entry);
    return [
      {
        name: connectionNameFor(spec.name, kind),
        kind,
        strategy: STRATEGY_OF[kind],
        options,
        fingerprint: sha256Hex(stableJson({ strategy: STRATEGY_OF[kind], options })).slice(0, 32),
      },
    ];
  });
}

/** Every connection of the spec by Auth0 name, with the organization-level settings it asks for. */
function orgConnections(spec: OrgSpec): { name: string; owned: boolean; settings: OrgConnectionSettings }[] {
  return spec.connections.map((entry) => {
    const kind = connectionKind(entry);
    return {
      name:
        'shared' in entry
          ? entry.shared
          : connectionNameFor(spec.name, kind as Exclude<ConnectionKind, 'shared'>),
      owned: kind !== 'shared',
      settings: {
        assignMembershipOnLogin: entry.assignMembershipOnLogin ?? false,
        showAsButton: entry.showAsButton ?? true,
        isSignupEnabled: 'database' in entry ? (entry.database.signupEnabled ?? false) : false,
      },
    };
  });
}

const URL_LISTS = ['callbacks', 'logoutUrls', 'webOrigins'] as const;

/** The three lists, each computed by `fn`. */
function mapUrls(fn: (list: (typeof URL_LISTS)[number]) => string[]): UrlLists {
  return { callbacks: fn('callbacks'), logoutUrls: fn('logoutUrls'), webOrigins: fn('webOrigins') };
}

/** The client's observed URL lists: undefined when they were not read, empty when the client was not found. */
function observedUrls(observed: Observed, clientName: string): UrlLists | undefined {
  if (!observed.clients) return undefined;
  return observed.clients.find((client) => client.name === clientName) ?? mapUrls(() => []);
}

/** `urls` narrowed to those on the list when it was read; all of them when it was not. */
const present = (urls: string[], current: string[] | undefined): string[] =>
  current ? urls.filter((url) => current.includes(url)) : urls;

function urlsOf(app: ApplicationSpec | undefined): UrlLists {
  return {
    callbacks: app?.callbacks ?? [],
    logoutUrls: app?.logoutUrls ?? [],
    webOrigins: app?.webOrigins ?? [],
  };
}

const minus = (a: string[], b: string[]): string[] => a.filter((item) => !b.includes(item));
const isEmpty = (urls: UrlLists): boolean =>
  urls.callbacks.length + urls.logoutUrls.length + urls.webOrigins.length === 0;

function userMetadata(metadata: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(metadata).filter(([key]) => !key.startsWith(RESERVED_METADATA_PREFIX)),
  );
}

function settingsOf(spec: OrgSpec): OrgSettings {
  return { displayName: spec.displayName, branding: spec.branding, metadata: spec.metadata ?? {} };
}

/**
 * Plans the steps that take the observed state to the desired one, with the application's hook calls around them:
 * `before-auth0` first and `after-auth0` just before the pivot (the administrator's invitation or ticket) when an
 * apply changes anything; `on-remove` first in a removal, while every Auth0 object still exists.
 */
export function plan(input: PlanInput): Step[] {
  const { desired, applied, observed } = input;
  const hooks = input.hooks ?? [];
  const callsFor = (phase: HookPhase): Step[] =>
    hooks
      .filter((hook) => hook.phases.includes(phase))
      .map((hook) => ({
        kind: 'call-hook',
        key: `hook:${hook.name}:${phase}`,
        hook: hook.name,
        phase,
        compensate: hook.phases.includes('on-compensate'),
      }));
  if (!desired) return [...callsFor('on-remove'), ...planRemoval(applied, observed)];
  const auth0 = planAuth0(desired, applied, observed);
  // Re-asserting an unchanged spec's URLs (the reconciler writes only what is missing) is no change for the hooks.
  if (
    applied !== undefined &&
    stableJson(desired) === stableJson(applied) &&
    auth0.every((step) => step.kind === 'add-client-urls')
  )
    return auth0;
  const pivot = auth0.findIndex(
    (step) => step.kind === 'invite-admin' || step.kind === 'send-password-ticket',
  );
  const beforePivot = pivot === -1 ? auth0 : auth0.slice(0, pivot);
  const fromPivot = pivot === -1 ? [] : auth0.slice(pivot);
  return [...callsFor('before-auth0'), ...beforePivot, ...callsFor('after-auth0'), ...fromPivot];
}

function planAuth0(desired: OrgSpec, applied: OrgSpec | undefined, observed: Observed): Step[] {
  const steps: Step[] = [];
  const org = observed.organization;
  const orgName = desired.name;

  // 1. The organization itself.
  if (!org) {
    steps.push({
      kind: 'create-organization',
      key: 'organization:create',
      name: orgName,
      settings: settingsOf(desired),
    });
  } else {
    const wanted = settingsOf(desired);
    const current: OrgSettings = {
      displayName: org.displayName,
      branding: org.branding,
      metadata: userMetadata(org.metadata),
    };
    const changes: Partial<OrgSettings> = {};
    const previous: Partial<OrgSettings> = {};
    for (const field of ['displayName', 'branding', 'metadata'] as const) {
      if (stableJson(wanted[field]) !== stableJson(current[field])) {
        Object.assign(changes, { [field]: wanted[field] });
        Object.assign(previous, { [field]: current[field] });
      }
    }
    if (Object.keys(changes).length > 0) {
      steps.push({
        kind: 'update-organization',
        key: 'organization:update',
        name: orgName,
        changes,
        previous,
      });
    }
  }

  // 2. Connections created for this organization.
  const observedByName = new Map(observed.connections.map((connection) => [connection.name, connection]));
  const clientNames = desired.applications.map((app) => app.client);
  for (const connection of desiredConnections(desired)) {
    const found = observedByName.get(connection.name);
    if (!found) {
      steps.push({ kind: 'create-connection', key: `connection:${connection.name}:create`, connection });
    } else if (found.metadata[OWNER_TAG] !== orgName) {
      // Never adopt: the derived name is taken by an object orgadmin did not create for this organization. The
      // create step will meet Auth0's 409 and fail the run with that reason.
      steps.push({ kind: 'create-connection', key: `connection:${connection.name}:create`, connection });
    } else if (found.metadata[OPTIONS_TAG] !== connection.fingerprint) {
      steps.push({ kind: 'update-connection', key: `connection:${connection.name}:update`, connection });
    }
  }

  // 3. Every connection enabled for the applications and on the organization.
  for (const { name, settings } of orgConnections(desired)) {
    const found = observedByName.get(name);
    const missingClients = minus(clientNames, found?.enabledClientNames ?? []);
    if (missingClients.length > 0) {
      steps.push({
        kind: 'enable-connection-for-clients',
        key: `connection:${name}:clients`,
        connectionName: name,
        clientNames: missingClients,
      });
    }
    if (!found?.onOrg) {
      steps.push({
        kind: 'enable-org-connection',
        key: `org-connection:${name}:enable`,
        connectionName: name,
        settings,
      });
    } else if (stableJson(found.onOrg) !== stableJson(settings)) {
      steps.push({
        kind: 'update-org-connection',
        key: `org-connection:${name}:update`,
        connectionName: name,
        settings,
        previous: found.onOrg,
      });
    }
  }

  // 4. Connections this organization no longer wants.
  const wantedNames = new Set(orgConnections(desired).map((connection) => connection.name));
  for (const { name, owned } of applied ? orgConnections(applied) : []) {
    if (wantedNames.has(name)) continue;
    const found = observedByName.get(name);
    if (found?.onOrg)
      steps.push({
        kind: 'disable-org-connection',
        key: `org-connection:${name}:disable`,
        connectionName: name,
      });
    if (owned && found && found.metadata[OWNER_TAG] === orgName) {
      steps.push({ kind: 'delete-connection', key: `connection:${name}:delete`, connectionName: name });
    }
  }

  // 5. Application URLs: add what the spec lists; take off only this organization's URLs that it no longer wants.
  // Unread lists (a run) give steps from the specs alone: a re-apply thus puts back a URL deleted by hand, and the
  // reconciler skips the write when nothing is missing. Read lists (a plan shown to people) narrow them to the change.
  const appliedApps = new Map((applied?.applications ?? []).map((app) => [app.client, app]));
  const allClients = [...new Set([...clientNames, ...appliedApps.keys()])];
  for (const clientName of allClients) {
    const want = urlsOf(desired.applications.find((app) => app.client === clientName));
    const had = urlsOf(appliedApps.get(clientName));
    const current = observedUrls(observed, clientName);
    const add = mapUrls((list) => (current ? minus(want[list], current[list]) : want[list]));
    const remove = mapUrls((list) => present(minus(had[list], want[list]), current?.[list]));
    if (!isEmpty(add))
      steps.push({ kind: 'add-client-urls', key: `client:${clientName}:urls:add`, clientName, urls: add });
    if (!isEmpty(remove)) {
      steps.push({
        kind: 'remove-client-urls',
        key: `client:${clientName}:urls:remove`,
        clientName,
        urls: remove,
      });
    }
  }

  // 6. The first administrator, once. The invitation is the pivot: user-visible and irreversible, so it goes last.
  if (desired.admin && !observed.admin) {
    const { email, name, via } = desired.admin;
    if (!observed.adminRoleExists)
      steps.push({ kind: 'ensure-admin-role', key: 'admin:role', roleName: ORG_ADMIN_ROLE });
    const databaseName = orgConnections(desired).find((connection, index) => {
      const kind = connectionKind(desired.connections[index]!);
      return kind === 'database' || kind === 'shared';
    })?.name;
    if (via === 'invitation') {
      steps.push({
        kind: 'invite-admin',
        key: 'admin:invite',
        email,
        name,
        clientName: clientNames[0] ?? '',
        connectionName: databaseName,
      });
    } else {
      steps.push({
        kind: 'create-admin-user',
        key: 'admin:user',
        email,
        name,
        connectionName: databaseName ?? '',
      });
      steps.push({ kind: 'add-admin-member', key: 'admin:member', email });
      steps.push({
        kind: 'assign-admin-role',
        key: 'admin:role-assignment',
        email,
        roleName: ORG_ADMIN_ROLE,
      });
      steps.push({ kind: 'send-password-ticket', key: 'admin:ticket', email, clientName: clientNames[0] });
    }
  }
  return steps;
}

/** Deprovisioning, in the reverse order of provisioning; only what this organization owns. */
function planRemoval(applied: OrgSpec | undefined, observed: Observed): Step[] {
  const steps: Step[] = [];
  const org = observed.organization;
  const orgName = org?.name ?? applied?.name ?? '';
  for (const app of applied?.applications ?? []) {
    const had = urlsOf(app);
    const current = observedUrls(observed, app.client);
    const remove = mapUrls((list) => present(had[list], current?.[list]));
    if (!isEmpty(remove))
      steps.push({
        kind: 'remove-client-urls',
        key: `client:${app.client}:urls:remove`,
        clientName: app.client,
        urls: remove,
      });
  }
  if (observed.admin?.createdByOrgadmin) {
    steps.push({ kind: 'delete-admin-user', key: 'admin:delete', email: observed.admin.email });
  }
  for (const connection of observed.connections) {
    if (connection.onOrg) {
      steps.push({
        kind: 'disable-org-connection',
        key: `org-connection:${connection.name}:disable`,
        connectionName: connection.name,
      });
    }
  }
  for (const connection of observed.connections) {
    if (connection.metadata[OWNER_TAG] === orgName) {
      steps.push({
        kind: 'delete-connection',
        key: `connection:${connection.name}:delete`,
        connectionName: connection.name,
      });
    }
  }
  if (org && org.metadata[OWNER_TAG] === orgName) {
    steps.push({ kind: 'delete-organization', key: 'organization:delete', name: org.name });
  }
  return steps;
}

/**
 * The step that undoes a completed step when a run compensates (in reverse order), or undefined when there is
 * nothing to undo: enabling a connection for clients is left alone (for a shared connection the clients may have
 * been enabled before; an owned connection is deleted anyway), and the invitation is the pivot, always last. The
 * step's journaled result says what it actually did, where that matters (a URL already on a client stays).
 */
export function compensationFor(step: Step, result?: StepResult): Step | undefined {
  switch (step.kind) {
    case 'create-organization':
      return { kind: 'delete-organization', key: 'organization:delete', name: step.name };
    case 'update-organization':
      return {
        kind: 'update-organization',
        key: 'organization:restore',
        name: step.name,
        changes: step.previous,
        previous: step.changes,
      };
    case 'create-connection':
      return {
        kind: 'delete-connection',
        key: `connection:${step.connection.name}:delete`,
        connectionName: step.connection.name,
      };
    case 'enable-org-connection':
      return {
        kind: 'disable-org-connection',
        key: `org-connection:${step.connectionName}:disable`,
        connectionName: step.connectionName,
      };
    case 'update-org-connection':
      return {
        kind: 'update-org-connection',
        key: `org-connection:${step.connectionName}:restore`,
        connectionName: step.connectionName,
        settings: step.previous,
        previous: step.settings,
      };
    case 'add-client-urls': {
      // Without a result (a journal written before results were kept) the step's URLs were only the missing ones.
      const urls = result?.addedUrls ?? step.urls;
      return isEmpty(urls)
        ? undefined
        : {
            kind: 'remove-client-urls',
            key: `client:${step.clientName}:urls:restore`,
            clientName: step.clientName,
            urls,
          };
    }
    case 'create-admin-user':
      return { kind: 'delete-admin-user', key: 'admin:delete', email: step.email };
    case 'call-hook':
      return step.compensate && (step.phase === 'before-auth0' || step.phase === 'after-auth0')
        ? {
            kind: 'call-hook',
            key: `hook:${step.hook}:on-compensate:${step.phase}`,
            hook: step.hook,
            phase: 'on-compensate',
            compensate: false,
            compensates: step.phase,
          }
        : undefined;
    default:
      return undefined;
  }
}

/** One line per step for people (plans, logs): names objects, never prints options or secrets. */
export function describeStep(step: Step): string {
  switch (step.kind) {
    case 'create-organization':
      return `create organization ${step.name}`;
    case 'update-organization':
      return `update organization ${step.name}: ${Object.keys(step.changes).join(', ')}`;
    case 'delete-organization':
      return `delete organization ${step.name}`;
    case 'create-connection':
      return `create ${step.connection.strategy} connection ${step.connection.name}`;
    case 'update-connection':
      return `update options of connection ${step.connection.name}`;
    case 'delete-connection':
      return `delete connection ${step.connectionName}`;
    case 'enable-connection-for-clients':
      return `enable connection ${step.connectionName} for ${step.clientNames.join(', ')}`;
    case 'enable-org-connection':
      return `enable connection ${step.connectionName} on the organization`;
    case 'update-org-connection':
      return `update the organization's settings of connection ${step.connectionName}`;
    case 'disable-org-connection':
      return `remove connection ${step.connectionName} from the organization`;
    case 'add-client-urls':
      return `add ${countUrls(step.urls)} URL(s) to application ${step.clientName}`;
    case 'remove-client-urls':
      return `remove ${countUrls(step.urls)} URL(s) from application ${step.clientName}`;
    case 'ensure-admin-role':
      return `create role ${step.roleName} if missing`;
    case 'invite-admin':
      return `invite ${step.email} as the organization's administrator`;
    case 'create-admin-user':
      return `create user ${step.email} in ${step.connectionName}`;
    case 'add-admin-member':
      return `add ${step.email} to the organization`;
    case 'assign-admin-role':
      return `give ${step.email} the ${step.roleName} role in the organization`;
    case 'send-password-ticket':
      return `create a password-change ticket for ${step.email}`;
    case 'delete-admin-user':
      return `delete user ${step.email}`;
    case 'call-hook':
      return step.compensates
        ? `call application hook ${step.hook} (on-compensate, undoing ${step.compensates})`
        : `call application hook ${step.hook} (${step.phase})`;
  }
}

function countUrls(urls: UrlLists): number {
  return urls.callbacks.length + urls.logoutUrls.length + urls.webOrigins.length;
}
