/**
 * The GitOps repository's contents (issue 5): each organization as auth0-deploy-cli's directory format — so the
 * repository is valid input for `a0deploy import` — and back again into an organization spec.
 *
 * Per organization:
 *   organizations/<name>.json                         the Auth0 organization and its connection links
 *   connections/<connection>.json                     each enterprise connection it owns
 *   database-connections/<connection>/database.json   its own database connection (isolation: isolated-database)
 *   .orgadmin/organizations/<name>.json               what deploy-cli has no place for: isolation, the per-organization
 *                                                     URLs on shared applications, the first administrator, app data
 *
 * Secrets never enter the repository: a connection's client secret is written as the deploy-cli keyword
 * `@@ORGADMIN_SECRET_<CONNECTION>@@` (replaced as JSON, so any character is safe) and supplied at deploy time; nothing
 * derived from a secret (such as orgadmin's options fingerprint) is written either. Any file may use deploy-cli
 * keywords (`##KEY##` replaced as raw text, `@@KEY@@` — quotes included — as JSON) for values that differ between
 * environments; reading replaces them exactly as deploy-cli does. Pure: no I/O.
 */
import { OrgadminError, type SpecIssue } from './errors.js';
import { connectionNameFor, STRATEGY_OF } from './naming.js';
import { CONNECTION_KINDS, orgSpecSchema, type ConnectionKind, type OrgSpec } from './org-spec.js';
import { desiredConnections, OWNER_TAG } from './plan.js';
import { zodIssues } from './spec-document.js';

/** orgadmin's own files live under this folder, which deploy-cli does not read. */
export const ORGADMIN_DIR = '.orgadmin';
export const MANIFEST_PATH = `${ORGADMIN_DIR}/manifest.json`;

export const organizationPath = (name: string): string => `organizations/${name}.json`;
export const sidecarPath = (name: string): string => `${ORGADMIN_DIR}/organizations/${name}.json`;
export function connectionPath(connectionName: string, kind: Exclude<ConnectionKind, 'shared'>): string {
  return kind === 'database'
    ? `database-connections/${connectionName}/database.json`
    : `connections/${connectionName}.json`;
}

/** Keywords under this prefix stand for secrets orgadmin keeps; no environment file may define one. */
export const SECRET_KEYWORD_PREFIX = 'ORGADMIN_SECRET_';

/** The deploy-cli keyword that stands for a connection's client secret. */
export function secretKeyword(connectionName: string): string {
  return `${SECRET_KEYWORD_PREFIX}${connectionName.toUpperCase().replace(/-/g, '_')}`;
}

/** A file of the repository: its path and its whole text. */
export interface RepoFile {
  path: string;
  text: string;
}

const KIND_OF_STRATEGY = new Map(
  Object.entries(STRATEGY_OF).map(([kind, strategy]) => [
    strategy,
    kind as Exclude<ConnectionKind, 'shared'>,
  ]),
);

const jsonText = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** JSON text with object keys sorted, so two texts compare by content. */
function canonicalJson(text: string): string {
  const sorted = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(sorted)
      : isRecord(value)
        ? Object.fromEntries(
            Object.keys(value)
              .sort()
              .map((key) => [key, sorted(value[key])]),
          )
        : value;
  try {
    return JSON.stringify(sorted(JSON.parse(text)));
  } catch {
    return text;
  }
}

/** The files that hold this organization, sorted by path. */
export function organizationFiles(spec: OrgSpec): RepoFile[] {
  const clientNames = spec.applications.map((app) => app.client);
  const owned = desiredConnections(spec);
  const files: RepoFile[] = [];
  files.push({
    path: organizationPath(spec.name),
    text: jsonText({
      name: spec.name,
      ...(spec.displayName ? { display_name: spec.displayName } : {}),
      ...(spec.branding
        ? {
            branding: {
              ...(spec.branding.logoUrl ? { logo_url: spec.branding.logoUrl } : {}),
              ...(spec.branding.colors
                ? {
                    colors: {
                      primary: spec.branding.colors.primary,
                      page_background: spec.branding.colors.pageBackground,
                    },
                  }
                : {}),
            },
          }
        : {}),
      metadata: { ...(spec.metadata ?? {}), [OWNER_TAG]: spec.name },
      connections: spec.connections.map((entry) => {
        const kind = CONNECTION_KINDS.find((candidate) => candidate in entry)!;
        return {
          name:
            'shared' in entry
              ? entry.shared
              : connectionNameFor(spec.name, kind as Exclude<ConnectionKind, 'shared'>),
          assign_membership_on_login: entry.assignMembershipOnLogin ?? false,
          show_as_button: entry.showAsButton ?? true,
          is_signup_enabled: 'database' in entry ? (entry.database.signupEnabled ?? false) : false,
        };
      }),
    }),
  });
  for (const connection of owned) {
    const options = { ...connection.options };
    if (typeof options['client_secret'] === 'string')
      options['client_secret'] = `@@${secretKeyword(connection.name)}@@`;
    files.push({
      path: connectionPath(connection.name, connection.kind),
      text: jsonText({
        name: connection.name,
        strategy: connection.strategy,
        options,
        // No options fingerprint: it would be derived from the secret, and it would differ per environment.
        metadata: { [OWNER_TAG]: spec.name },
        enabled_clients: clientNames,
      }),
    });
  }
  // What the spec says beyond deploy-cli's files; connection options live in the connection files.
  const sidecar: Record<string, unknown> = { isolation: spec.isolation };
  if (spec.applications.length > 0) sidecar['applications'] = spec.applications;
  if (spec.admin) sidecar['admin'] = spec.admin;
  if (spec.app) sidecar['app'] = spec.app;
  files.push({ path: sidecarPath(spec.name), text: jsonText(sidecar) });
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The secrets a spec holds, by deploy-cli keyword (what a deploy must supply). */
export function secretKeywords(spec: OrgSpec): Record<string, string> {
  const secrets: Record<string, string> = {};
  for (const connection of desiredConnections(spec)) {
    const secret = connection.options['client_secret'];
    if (typeof secret === 'string') secrets[secretKeyword(connection.name)] = secret;
  }
  return secrets;
}

/** A keyword's value: a string, or for `@@KEY@@` any JSON value (deploy-cli's mappings). */
export type KeywordValue =
  string | number | boolean | null | KeywordValue[] | { [key: string]: KeywordValue };

/**
 * deploy-cli's keyword replacement on a file's text (its `keywordReplace`): `@@KEY@@`, with or without the quotes
 * around it, becomes the JSON of the value; then `##KEY##` becomes the value as raw text. A keyword without a value is
 * an error naming the file and the keyword (deploy-cli would drop the field and keep Auth0's value).
 */
export function replaceKeywords(text: string, path: string, keywords: Record<string, KeywordValue>): string {
  const missing = new Set<string>();
  const valueOf = (key: string): KeywordValue => {
    if (!Object.hasOwn(keywords, key)) missing.add(key);
    return keywords[key] ?? '';
  };
  const replaced = text
    .replace(
      /'@@([A-Za-z0-9_]+)@@'|"@@([A-Za-z0-9_]+)@@"|@@([A-Za-z0-9_]+)@@/g,
      (_, a?: string, b?: string, c?: string) => JSON.stringify(valueOf(a ?? b ?? c ?? '')),
    )
    .replace(/##([A-Za-z0-9_]+)##/g, (_, key: string) => {
      const value = valueOf(key);
      return typeof value === 'string' ? value : JSON.stringify(value);
    });
  if (missing.size > 0)
    throw new OrgadminError(
      'repository.invalid',
      `${path}: no value for keyword(s) ${[...missing].join(', ')}; set them for this environment`,
      { issues: [...missing].map((key) => ({ path, message: `keyword ${key} has no value` })) },
    );
  return replaced;
}

/** A string that deploy-cli would read as a keyword: refused in specs, so a value can never become one. */
const KEYWORD_LIKE = /##[A-Za-z0-9_]+##|@@[A-Za-z0-9_]+@@/;

/** Every string of a spec that looks like a deploy-cli keyword, as issues naming its field. */
export function keywordLikeValues(spec: OrgSpec): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const walk = (value: unknown, path: string): void => {
    if (typeof value === 'string') {
      if (KEYWORD_LIKE.test(value))
        issues.push({ path, message: 'must not contain ##NAME## or @@NAME@@ (deploy-cli keyword markers)' });
    } else if (Array.isArray(value)) value.forEach((item, index) => walk(item, `${path}[${index}]`));
    else if (value !== null && typeof value === 'object')
      for (const [key, item] of Object.entries(value)) {
        if (KEYWORD_LIKE.test(key))
          issues.push({
            path: `${path}.${key}`,
            message: 'field names must not look like deploy-cli keywords',
          });
        walk(item, path === '' ? key : `${path}.${key}`);
      }
  };
  walk(spec, '');
  return issues;
}

/**
 * The inverse of keyword replacement for a file orgadmin writes again: a string that, with the environment's
 * keywords replaced, is exactly the one the previous text had at the same place keeps its keywords — so an edit in one
 * environment's terms leaves every value it did not change portable. Values it changed are written as given.
 */
export function restoreKeywords(
  text: string,
  previous: string | undefined,
  keywords: Record<string, KeywordValue>,
): string {
  if (previous === undefined || !KEYWORD_LIKE.test(previous)) return text;
  let before: unknown;
  try {
    before = JSON.parse(previous);
  } catch {
    return text;
  }
  const restore = (now: unknown, then: unknown): unknown => {
    if (typeof now === 'string' && typeof then === 'string' && KEYWORD_LIKE.test(then)) {
      try {
        return JSON.parse(replaceKeywords(JSON.stringify(then), '', keywords)) === now ? then : now;
      } catch {
        return now;
      }
    }
    if (Array.isArray(now) && Array.isArray(then))
      return now.map((item, index) => restore(item, then[index]));
    if (isRecord(now) && isRecord(then))
      return Object.fromEntries(Object.entries(now).map(([key, value]) => [key, restore(value, then[key])]));
    return now;
  };
  return `${JSON.stringify(restore(JSON.parse(text), before), null, 2)}\n`;
}

type Reader = (path: string) => string | undefined;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Reads and parses one JSON file of the repository; undefined when it does not exist. */
function readJson(
  read: Reader,
  path: string,
  keywords: Record<string, KeywordValue>,
): Record<string, unknown> | undefined {
  const text = read(path);
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(replaceKeywords(text, path, keywords));
  } catch (error) {
    if (error instanceof OrgadminError) throw error;
    throw new OrgadminError('repository.invalid', `${path}: not valid JSON (${(error as Error).message})`);
  }
  if (!isRecord(value)) throw new OrgadminError('repository.invalid', `${path}: must hold a JSON object`);
  return value;
}

/** Refuses fields orgadmin does not manage, so a hand edit is never silently ignored. */
function onlyKnown(
  value: Record<string, unknown>,
  known: string[],
  where: string,
  issues: SpecIssue[],
): void {
  const unknown = Object.keys(value).filter((key) => !known.includes(key));
  if (unknown.length > 0)
    issues.push({ path: where, message: `unknown field(s) ${unknown.join(', ')} (not managed by orgadmin)` });
}

/** A connection file's options back into the spec's words for its kind. */
function specOptions(kind: Exclude<ConnectionKind, 'shared'>, options: Record<string, unknown>): unknown {
  const pick = (entries: [string, string][]): Record<string, unknown> =>
    Object.fromEntries(
      entries.filter(([, from]) => options[from] !== undefined).map(([to, from]) => [to, options[from]]),
    );
  switch (kind) {
    case 'database':
      return {
        passwordPolicy: options['passwordPolicy'],
        requiresUsername: options['requires_username'],
      };
    case 'saml':
      return pick([
        ['metadataUrl', 'metadataUrl'],
        ['metadataXml', 'metadataXml'],
        ['signInEndpoint', 'signInEndpoint'],
        ['signingCert', 'signingCert'],
        ['signOutEndpoint', 'signOutEndpoint'],
      ]);
    case 'oidc':
      return pick([
        ['discoveryUrl', 'discovery_url'],
        ['clientId', 'client_id'],
        ['clientSecret', 'client_secret'],
        ['type', 'type'],
        ['scope', 'scope'],
      ]);
    case 'adfs':
      return pick([
        ['metadataUrl', 'adfs_server'],
        ['metadataXml', 'fedMetadataXml'],
      ]);
    default:
      return pick([
        ['domain', 'domain'],
        ['clientId', 'client_id'],
        ['clientSecret', 'client_secret'],
      ]);
  }
}

/**
 * The organization spec that the repository's files for `name` describe (undefined when it has no organization
 * file). `keywords` replaces deploy-cli keywords first (secrets included). Every problem is reported at once, each
 * naming the file and the field; the spec is then validated by the same schema as every other face's input, and
 * must render back to exactly the files it was read from (anything else would be lost on the next write).
 */
export function readOrganization(
  name: string,
  read: Reader,
  keywords: Record<string, KeywordValue> = {},
): OrgSpec | undefined {
  const orgPath = organizationPath(name);
  const org = readJson(read, orgPath, keywords);
  if (!org) return undefined;
  const issues: SpecIssue[] = [];
  const sidecar = readJson(read, sidecarPath(name), keywords) ?? {};
  onlyKnown(org, ['name', 'display_name', 'branding', 'metadata', 'connections'], orgPath, issues);
  onlyKnown(sidecar, ['isolation', 'applications', 'admin', 'app'], sidecarPath(name), issues);
  if (org['name'] !== name)
    issues.push({ path: `${orgPath} name`, message: `must be ${name}, the file's name` });

  const metadata = isRecord(org['metadata']) ? { ...org['metadata'] } : {};
  if (metadata[OWNER_TAG] !== name)
    issues.push({
      path: `${orgPath} metadata.${OWNER_TAG}`,
      message: `must be ${name} (orgadmin's ownership tag)`,
    });
  delete metadata[OWNER_TAG];

  const branding = isRecord(org['branding']) ? org['branding'] : undefined;
  const colors = branding && isRecord(branding['colors']) ? branding['colors'] : undefined;

  const connections: unknown[] = [];
  const links = Array.isArray(org['connections']) ? org['connections'] : [];
  links.forEach((link, index) => {
    const where = `${orgPath} connections[${index}]`;
    if (!isRecord(link) || typeof link['name'] !== 'string') {
      issues.push({ path: where, message: 'must be an object with a name' });
      return;
    }
    onlyKnown(
      link,
      ['name', 'assign_membership_on_login', 'show_as_button', 'is_signup_enabled'],
      where,
      issues,
    );
    const membership = {
      assignMembershipOnLogin: link['assign_membership_on_login'],
      showAsButton: link['show_as_button'],
    };
    const connectionName = link['name'];
    const kind = ([...KIND_OF_STRATEGY.values()] as Exclude<ConnectionKind, 'shared'>[]).find(
      (candidate) => connectionNameFor(name, candidate) === connectionName,
    );
    const path = kind ? connectionPath(connectionName, kind) : undefined;
    const file = path ? readJson(read, path, keywords) : undefined;
    if (!kind || !path || !file) {
      // Not one of the names orgadmin derives for this organization, or no file for it: a shared connection.
      connections.push({ shared: connectionName, ...membership });
      return;
    }
    onlyKnown(file, ['name', 'strategy', 'options', 'metadata', 'enabled_clients'], path, issues);
    const fileMetadata = isRecord(file['metadata']) ? file['metadata'] : {};
    if (fileMetadata[OWNER_TAG] !== name)
      issues.push({
        path: `${path} metadata.${OWNER_TAG}`,
        message: `must be ${name} (orgadmin's ownership tag)`,
      });
    if (file['strategy'] !== STRATEGY_OF[kind])
      issues.push({
        path: `${path} strategy`,
        message: `must be ${STRATEGY_OF[kind]} for ${connectionName}`,
      });
    const options = isRecord(file['options']) ? file['options'] : {};
    const domains = Array.isArray(options['domain_aliases']) ? options['domain_aliases'] : undefined;
    connections.push({
      [kind]:
        kind === 'database'
          ? { ...(specOptions(kind, options) as object), signupEnabled: link['is_signup_enabled'] }
          : specOptions(kind, options),
      ...(kind !== 'database' && domains ? { domains } : {}),
      ...membership,
    });
  });

  const candidate = {
    name,
    ...(typeof org['display_name'] === 'string' ? { displayName: org['display_name'] } : {}),
    ...(sidecar['isolation'] !== undefined ? { isolation: sidecar['isolation'] } : {}),
    ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
    ...(branding
      ? {
          branding: {
            ...(branding['logo_url'] !== undefined ? { logoUrl: branding['logo_url'] } : {}),
            ...(colors
              ? { colors: { primary: colors['primary'], pageBackground: colors['page_background'] } }
              : {}),
          },
        }
      : {}),
    connections,
    ...(sidecar['applications'] !== undefined ? { applications: sidecar['applications'] } : {}),
    ...(sidecar['admin'] !== undefined ? { admin: sidecar['admin'] } : {}),
    ...(sidecar['app'] !== undefined ? { app: sidecar['app'] } : {}),
  };
  const result = orgSpecSchema.safeParse(candidate);
  if (!result.success)
    issues.push(...zodIssues(result.error, (path) => `${orgPath} (as spec) ${path.join('.')}`));
  else if (issues.length === 0) {
    // Whatever would not survive the next write (an option orgadmin does not set, a foreign file) is refused now.
    for (const file of organizationFiles(result.data)) {
      const wanted = canonicalJson(
        replaceKeywords(file.text, file.path, { ...keywords, ...secretKeywords(result.data) }),
      );
      const text = read(file.path);
      const found =
        text === undefined ? undefined : canonicalJson(replaceKeywords(text, file.path, keywords));
      if (found !== wanted)
        issues.push({
          path: file.path,
          message:
            found === undefined
              ? 'is missing'
              : 'differs from what orgadmin writes for this organization (a value it does not manage, or an option it sets differently)',
        });
    }
  }
  if (issues.length > 0)
    throw new OrgadminError(
      'repository.invalid',
      `the repository's files for ${name} are not a valid organization: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      { issues },
    );
  return result.data;
}

/**
 * The organization a changed path belongs to, when the path alone says so (organization and sidecar files); a
 * connection file names its organization in `metadata.orgadmin_org`, which the caller reads.
 */
export function organizationOfPath(path: string): string | undefined {
  const match = /^(?:organizations|\.orgadmin\/organizations)\/([^/]+)\.json$/.exec(path);
  return match?.[1];
}

/** Whether a path holds a connection (deploy-cli's `connections/` or `database-connections/`). */
export function isConnectionPath(path: string): boolean {
  return (
    /^connections\/[^/]+\.json$/.test(path) || /^database-connections\/[^/]+\/database\.json$/.test(path)
  );
}

/** The owner tag of a connection file's text, if it has one (keywords are left as they are). */
export function connectionOwner(text: string): string | undefined {
  try {
    const value: unknown = JSON.parse(text);
    const metadata = isRecord(value) && isRecord(value['metadata']) ? value['metadata'] : undefined;
    const owner = metadata?.[OWNER_TAG];
    return typeof owner === 'string' ? owner : undefined;
  } catch {
    return undefined;
  }
}
