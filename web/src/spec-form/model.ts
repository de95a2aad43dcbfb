/**
 * The spec form's state and its two-way mapping to the organization spec. The form holds text as typed; the spec
 * it builds is validated with the server's own schema (`orgSpecSchema` from src/domain), so the UI shows exactly the
 * rules — and the field paths — the server applies.
 */
import { formatPath } from '../../../src/domain/field-path.js';
import {
  CONNECTION_KINDS,
  orgSpecSchema,
  type ConnectionKind,
  type ConnectionSpec,
  type OrgSpec,
} from '../../../src/domain/org-spec.js';
import type { Isolation, SpecIssue } from '../api.js';

export type OwnKind = Exclude<ConnectionKind, 'shared'>;
export type CredentialKind = 'azureAd' | 'okta' | 'googleWorkspace';
export type PasswordPolicy = 'none' | 'low' | 'fair' | 'good' | 'excellent';
export type AdminVia = 'invitation' | 'password-ticket';

export const KIND_LABEL: Record<ConnectionKind, string> = {
  shared: 'Shared',
  database: 'Database',
  saml: 'SAML',
  oidc: 'OIDC',
  azureAd: 'Azure AD',
  okta: 'Okta',
  googleWorkspace: 'Google Workspace',
  adfs: 'ADFS',
};

export const OWN_KINDS = CONNECTION_KINDS.filter((kind): kind is OwnKind => kind !== 'shared');

/**
 * A boolean the spec may leave out: `undefined` means "not in the spec" (the server's default applies), so an
 * untouched checkbox does not turn into an explicit value — and into a change — on edit.
 */
type Optional = boolean | undefined;

interface Membership {
  uid: string;
  assignMembershipOnLogin: Optional;
  showAsButton: Optional;
}

export interface SharedForm extends Membership {
  kind: 'shared';
  shared: string;
}

export interface DatabaseForm extends Membership {
  kind: 'database';
  passwordPolicy: PasswordPolicy | undefined;
  requiresUsername: Optional;
  signupEnabled: Optional;
}

interface EnterpriseForm extends Membership {
  /** Home-realm discovery domains as typed: comma (or space) separated. */
  domains: string;
}

/**
 * Secrets come back from the server as "(set)". The form shows them blank; a blank secret that was set is sent back
 * as "(set)", which the server reads as "keep the current secret" — so editing never needs (or reveals) the secret.
 */
interface SecretField {
  clientSecret: string;
  secretSet: boolean;
}

export interface SamlForm extends EnterpriseForm {
  kind: 'saml';
  source: 'url' | 'xml' | 'manual';
  metadataUrl: string;
  metadataXml: string;
  xmlFileName: string;
  signInEndpoint: string;
  signOutEndpoint: string;
  signingCert: string;
}

export interface OidcForm extends EnterpriseForm, SecretField {
  kind: 'oidc';
  discoveryUrl: string;
  clientId: string;
  type: '' | 'front_channel' | 'back_channel';
  scope: string;
}

export interface CredentialForm extends EnterpriseForm, SecretField {
  kind: CredentialKind;
  domain: string;
  clientId: string;
}

export interface AdfsForm extends EnterpriseForm {
  kind: 'adfs';
  source: 'url' | 'xml';
  metadataUrl: string;
  metadataXml: string;
  xmlFileName: string;
}

export type ConnectionForm = SharedForm | DatabaseForm | SamlForm | OidcForm | CredentialForm | AdfsForm;

export interface ApplicationForm {
  uid: string;
  client: string;
  /** One URL per line. */
  callbacks: string;
  logoutUrls: string;
  webOrigins: string;
}

export interface FormState {
  name: string;
  displayName: string;
  isolation: Isolation;
  tenant: string;
  connections: ConnectionForm[];
  applications: ApplicationForm[];
  adminEmail: string;
  adminName: string;
  adminVia: AdminVia;
  /** Parts of an existing spec this form does not edit; kept as they are. */
  extras: Pick<OrgSpec, 'metadata' | 'branding' | 'app'>;
}

let uidCounter = 0;
export const newUid = (): string => `u${++uidCounter}`;

export function emptyForm(): FormState {
  return {
    name: '',
    displayName: '',
    isolation: 'shared',
    tenant: '',
    connections: [],
    applications: [],
    adminEmail: '',
    adminName: '',
    adminVia: 'invitation',
    extras: {},
  };
}

export function newConnection(kind: ConnectionKind, sharedName = ''): ConnectionForm {
  const membership = { uid: newUid(), assignMembershipOnLogin: undefined, showAsButton: undefined };
  const enterprise = { ...membership, domains: '' };
  switch (kind) {
    case 'shared':
      return { ...membership, kind, shared: sharedName };
    case 'database':
      return {
        ...membership,
        kind,
        passwordPolicy: undefined,
        requiresUsername: undefined,
        signupEnabled: undefined,
      };
    case 'saml':
      return {
        ...enterprise,
        kind,
        source: 'url',
        metadataUrl: '',
        metadataXml: '',
        xmlFileName: '',
        signInEndpoint: '',
        signOutEndpoint: '',
        signingCert: '',
      };
    case 'oidc':
      return {
        ...enterprise,
        kind,
        discoveryUrl: '',
        clientId: '',
        clientSecret: '',
        secretSet: false,
        type: '',
        scope: '',
      };
    case 'azureAd':
    case 'okta':
    case 'googleWorkspace':
      return { ...enterprise, kind, domain: '', clientId: '', clientSecret: '', secretSet: false };
    case 'adfs':
      return { ...enterprise, kind, source: 'url', metadataUrl: '', metadataXml: '', xmlFileName: '' };
  }
}

export function newApplication(client: string): ApplicationForm {
  return { uid: newUid(), client, callbacks: '', logoutUrls: '', webOrigins: '' };
}

const SET = '(set)';

function connectionFromSpec(entry: ConnectionSpec): ConnectionForm {
  const membership = {
    uid: newUid(),
    assignMembershipOnLogin: entry.assignMembershipOnLogin,
    showAsButton: entry.showAsButton,
  };
  const domains = 'domains' in entry ? (entry.domains ?? []).join(', ') : '';
  if ('shared' in entry) return { ...membership, kind: 'shared', shared: entry.shared };
  if ('database' in entry) {
    return {
      ...membership,
      kind: 'database',
      passwordPolicy: entry.database.passwordPolicy,
      requiresUsername: entry.database.requiresUsername,
      signupEnabled: entry.database.signupEnabled,
    };
  }
  if ('saml' in entry) {
    const saml = entry.saml;
    return {
      ...membership,
      domains,
      kind: 'saml',
      source: saml.metadataXml !== undefined ? 'xml' : saml.signInEndpoint !== undefined ? 'manual' : 'url',
      metadataUrl: saml.metadataUrl ?? '',
      metadataXml: saml.metadataXml ?? '',
      xmlFileName: '',
      signInEndpoint: saml.signInEndpoint ?? '',
      signOutEndpoint: saml.signOutEndpoint ?? '',
      signingCert: saml.signingCert ?? '',
    };
  }
  if ('oidc' in entry) {
    const oidc = entry.oidc;
    return {
      ...membership,
      domains,
      kind: 'oidc',
      discoveryUrl: oidc.discoveryUrl,
      clientId: oidc.clientId,
      clientSecret: oidc.clientSecret === undefined || oidc.clientSecret === SET ? '' : oidc.clientSecret,
      secretSet: oidc.clientSecret !== undefined,
      type: oidc.type ?? '',
      scope: oidc.scope ?? '',
    };
  }
  if ('adfs' in entry) {
    return {
      ...membership,
      domains,
      kind: 'adfs',
      source: entry.adfs.metadataXml !== undefined ? 'xml' : 'url',
      metadataUrl: entry.adfs.metadataUrl ?? '',
      metadataXml: entry.adfs.metadataXml ?? '',
      xmlFileName: '',
    };
  }
  const kind: CredentialKind = 'azureAd' in entry ? 'azureAd' : 'okta' in entry ? 'okta' : 'googleWorkspace';
  const credentials =
    'azureAd' in entry ? entry.azureAd : 'okta' in entry ? entry.okta : entry.googleWorkspace;
  return {
    ...membership,
    domains,
    kind,
    domain: credentials.domain,
    clientId: credentials.clientId,
    clientSecret: credentials.clientSecret === SET ? '' : credentials.clientSecret,
    secretSet: credentials.clientSecret !== '',
  };
}

const lines = (list: string[] | undefined): string => (list ?? []).join('\n');

export function formFromSpec(spec: OrgSpec): FormState {
  return {
    name: spec.name,
    displayName: spec.displayName ?? '',
    isolation: spec.isolation,
    tenant: spec.tenant ?? '',
    connections: spec.connections.map(connectionFromSpec),
    applications: spec.applications.map((app) => ({
      uid: newUid(),
      client: app.client,
      callbacks: lines(app.callbacks),
      logoutUrls: lines(app.logoutUrls),
      webOrigins: lines(app.webOrigins),
    })),
    adminEmail: spec.admin?.email ?? '',
    adminName: spec.admin?.name ?? '',
    adminVia: spec.admin?.via ?? 'invitation',
    extras: {
      ...(spec.metadata !== undefined && { metadata: spec.metadata }),
      ...(spec.branding !== undefined && { branding: spec.branding }),
      ...(spec.app !== undefined && { app: spec.app }),
    },
  };
}

/** Drops the keys whose value is undefined (the spec is strict and leaves optional fields out). */
function compact<T extends Record<string, unknown>>(record: T): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as Partial<T>;
}

const optionalText = (value: string): string | undefined => (value.trim() === '' ? undefined : value.trim());

export function splitList(text: string, separator: RegExp): string[] {
  return text
    .split(separator)
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

const domainList = (text: string): string[] | undefined => {
  const list = splitList(text, /[,\s]+/);
  return list.length === 0 ? undefined : list;
};
const urlLines = (text: string): string[] | undefined => {
  const list = splitList(text, /\r?\n/);
  return list.length === 0 ? undefined : list;
};

/** The secret to send: a new value, "(set)" to keep the current one, or nothing. */
function secretOf(field: SecretField): string | undefined {
  if (field.clientSecret !== '') return field.clientSecret;
  return field.secretSet ? SET : undefined;
}

function connectionToSpec(form: ConnectionForm): Record<string, unknown> {
  const membership = {
    assignMembershipOnLogin: form.assignMembershipOnLogin,
    showAsButton: form.showAsButton,
  };
  switch (form.kind) {
    case 'shared':
      return compact({ shared: form.shared, ...membership });
    case 'database':
      return compact({
        database: compact({
          passwordPolicy: form.passwordPolicy,
          requiresUsername: form.requiresUsername,
          signupEnabled: form.signupEnabled,
        }),
        ...membership,
      });
    case 'saml': {
      const saml =
        form.source === 'url'
          ? { metadataUrl: form.metadataUrl.trim() }
          : form.source === 'xml'
            ? { metadataXml: form.metadataXml }
            : { signInEndpoint: form.signInEndpoint.trim(), signingCert: form.signingCert.trim() };
      return compact({
        saml: compact({ ...saml, signOutEndpoint: optionalText(form.signOutEndpoint) }),
        domains: domainList(form.domains),
        ...membership,
      });
    }
    case 'oidc':
      return compact({
        oidc: compact({
          discoveryUrl: form.discoveryUrl.trim(),
          clientId: form.clientId.trim(),
          clientSecret: secretOf(form),
          type: form.type === '' ? undefined : form.type,
          scope: optionalText(form.scope),
        }),
        domains: domainList(form.domains),
        ...membership,
      });
    case 'azureAd':
    case 'okta':
    case 'googleWorkspace':
      return compact({
        [form.kind]: {
          domain: form.domain.trim(),
          clientId: form.clientId.trim(),
          clientSecret: secretOf(form) ?? '',
        },
        domains: domainList(form.domains),
        ...membership,
      });
    case 'adfs':
      return compact({
        adfs:
          form.source === 'url'
            ? { metadataUrl: form.metadataUrl.trim() }
            : { metadataXml: form.metadataXml },
        domains: domainList(form.domains),
        ...membership,
      });
  }
}

/** The spec the form describes (not yet validated: the schema says what is wrong with it, and where). */
export function specFromForm(form: FormState): Record<string, unknown> {
  const admin =
    form.adminEmail.trim() === '' && form.adminName.trim() === ''
      ? undefined
      : compact({ email: form.adminEmail.trim(), name: optionalText(form.adminName), via: form.adminVia });
  return compact({
    name: form.name,
    displayName: optionalText(form.displayName),
    isolation: form.isolation,
    tenant: form.isolation === 'dedicated-tenant' ? optionalText(form.tenant) : undefined,
    metadata: form.extras.metadata,
    branding: form.extras.branding,
    connections: form.connections.map(connectionToSpec),
    applications: form.applications.map((app) =>
      compact({
        client: app.client,
        callbacks: urlLines(app.callbacks),
        logoutUrls: urlLines(app.logoutUrls),
        webOrigins: urlLines(app.webOrigins),
      }),
    ),
    admin,
    app: form.extras.app,
  });
}

const EMPTY = 'must not be empty';

export function validateSpec(spec: unknown): SpecIssue[] {
  try {
    const result = orgSpecSchema.safeParse(spec);
    if (result.success) return [];
    const issues = result.error.issues.map((issue) => ({
      path: formatPath(issue.path),
      message:
        issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message,
    }));
    // An empty field also breaks its format rules; "must not be empty" says all there is to say.
    const empty = new Set(issues.filter((issue) => issue.message === EMPTY).map((issue) => issue.path));
    return issues.filter((issue) => issue.message === EMPTY || !empty.has(issue.path));
  } catch (error) {
    return [{ path: '(spec)', message: error instanceof Error ? error.message : 'cannot be validated' }];
  }
}

/** The value at a formatted path (`connections[0].saml.metadataUrl`), or undefined. */
export function valueAtPath(root: unknown, path: string): unknown {
  const segments = path.match(/[^.[\]]+|\[\d+\]/g) ?? [];
  let current: unknown = root;
  for (const segment of segments) {
    if (current === null || typeof current !== 'object') return undefined;
    const key = segment.startsWith('[') ? Number(segment.slice(1, -1)) : segment;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

/** Does `issuePath` point at `path` or inside it (`domains` covers `domains[3]`)? */
export function isAtOrUnder(issuePath: string, path: string): boolean {
  return issuePath === path || issuePath.startsWith(`${path}.`) || issuePath.startsWith(`${path}[`);
}

export const WIZARD_STEPS = ['Basics', 'Connections', 'Applications', 'Administrator', 'Review'] as const;

/** Which wizard step (index) shows the field at `path`. */
export function stepOfPath(path: string): number {
  if (/^(name|displayName|isolation|tenant)\b/.test(path)) return 0;
  if (path.startsWith('connections')) return 1;
  if (path.startsWith('applications')) return 2;
  if (path.startsWith('admin')) return 3;
  return 4;
}
