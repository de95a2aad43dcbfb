/**
 * The organization spec: the desired state of one customer organization, as operators write it (YAML or JSON, one
 * organization per document). It is a public contract — documented in the README and kept stable.
 *
 * Validation mirrors Auth0's own limits (reference §3, §7, §8, §13) so a bad spec fails here, naming the field and
 * the rule, before anything is sent anywhere; and it adds the checks Auth0 does not make but we must (https-only
 * metadata URLs, no DTDs in metadata XML, domains that cannot be used to claim someone else's users).
 */
import { z } from 'zod';

/** Keys under this prefix in Auth0 metadata are orgadmin's own (ownership tags); specs may not use them. */
export const RESERVED_METADATA_PREFIX = 'orgadmin_';
/** Auth0 allows 25 metadata keys; one is kept for orgadmin's ownership tag. */
export const MAX_USER_METADATA_KEYS = 24;
export const MAX_CONNECTIONS = 10;
export const MAX_URLS_PER_LIST = 100;

/** Names that would be dangerous as object keys anywhere downstream. */
const RESERVED_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

export const organizationNameSchema = z
  .string({ error: 'must be a string' })
  .min(1, 'must not be empty')
  .max(50, 'must be at most 50 characters (Auth0 organization name limit)')
  .regex(
    /^[a-z0-9_-]+$/,
    'may contain only lowercase letters a-z, digits, "_" and "-" (Auth0 organization name rule)',
  )
  .refine((name) => !RESERVED_NAMES.has(name), 'is a reserved name');

const displayName = z
  .string({ error: 'must be a string' })
  .min(1, 'must not be empty')
  .max(255, 'must be at most 255 characters (Auth0 display_name limit)');

const htmlColor = z.string().regex(/^#(?:[0-9a-fA-F]{3}){1,2}$/, 'must be an HTML color like #0059d6');

function isUrl(value: string, protocols: string[]): boolean {
  try {
    const url = new URL(value);
    return (
      protocols.includes(url.protocol) && url.hostname !== '' && url.username === '' && url.password === ''
    );
  } catch {
    return false;
  }
}

const httpsUrl = z
  .string({ error: 'must be a string' })
  .max(2048, 'must be at most 2048 characters')
  .refine((value) => isUrl(value, ['https:']), 'must be an https:// URL without credentials');

/** Application URLs may use Auth0's `{organization_name}` placeholder and http on localhost (development). */
const applicationUrl = z
  .string({ error: 'must be a string' })
  .max(2048, 'must be at most 2048 characters')
  .refine((value) => {
    const concrete = value.replaceAll('{organization_name}', 'org');
    if (isUrl(concrete, ['https:'])) return true;
    return isUrl(concrete, ['http:']) && ['localhost', '127.0.0.1'].includes(new URL(concrete).hostname);
  }, 'must be an https:// URL (http:// only for localhost); {organization_name} is allowed');

const urlList = z
  .array(applicationUrl)
  .max(MAX_URLS_PER_LIST, `must hold at most ${MAX_URLS_PER_LIST} URLs (Auth0 limit)`)
  .refine((urls) => new Set(urls).size === urls.length, 'must not repeat a URL');

/**
 * A domain that users of this organization sign in with (home-realm discovery). Lowercase ASCII (IDNs in punycode),
 * at least two labels, no IP literals, wildcards, ports or paths.
 */
const domain = z
  .string({ error: 'must be a string' })
  .max(253, 'must be at most 253 characters')
  .refine((value) => value === value.toLowerCase(), 'must be lowercase')
  .refine(
    (value) => /^[a-z0-9.-]+$/.test(value),
    'must be an ASCII host name (use punycode for IDNs), no port or path',
  )
  .refine((value) => !/^\d+(\.\d+)*$/.test(value), 'must be a domain name, not an IP address')
  .refine((value) => {
    const labels = value.split('.');
    return labels.length >= 2 && labels.every((label) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(label));
  }, 'must have at least two labels of 1-63 letters, digits or inner "-"');

const domains = z
  .array(domain)
  .max(50, 'must hold at most 50 domains')
  .refine((list) => new Set(list).size === list.length, 'must not repeat a domain');

/** Metadata XML is parsed by Auth0 (and by us for previews); a DTD is the door to XXE and entity expansion. */
const metadataXml = z
  .string({ error: 'must be a string' })
  .min(1, 'must not be empty')
  .max(1_000_000, 'must be at most 1 MB')
  .refine(
    (xml) => !/<!DOCTYPE/i.test(xml) && !/<!ENTITY/i.test(xml),
    'must not contain a DTD (<!DOCTYPE or <!ENTITY)',
  )
  .refine((xml) => /<(\w+:)?EntityDescriptor[\s>]/.test(xml), 'must be SAML metadata (an EntityDescriptor)');

const certificate = z
  .string({ error: 'must be a string' })
  .refine(
    (value) => /^[A-Za-z0-9+/=\s]+$/.test(value.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '')),
    'must be a PEM or base64 certificate',
  );

const membership = {
  /** Users who sign in through this connection become members automatically (Auth0 `assign_membership_on_login`). */
  assignMembershipOnLogin: z.boolean().optional(),
  /** Show a button for this connection on the organization's login page. */
  showAsButton: z.boolean().optional(),
};

const sharedConnection = z.strictObject({
  shared: z.string().min(1, 'must name an existing connection'),
  ...membership,
});

const databaseConnection = z.strictObject({
  database: z.strictObject({
    passwordPolicy: z.enum(['none', 'low', 'fair', 'good', 'excellent']).optional(),
    requiresUsername: z.boolean().optional(),
    /** Let people sign up through the organization's login (needs assignMembershipOnLogin). */
    signupEnabled: z.boolean().optional(),
  }),
  ...membership,
});

const samlOptions = z
  .strictObject({
    metadataUrl: httpsUrl.optional(),
    metadataXml: metadataXml.optional(),
    signInEndpoint: httpsUrl.optional(),
    signOutEndpoint: httpsUrl.optional(),
    signingCert: certificate.optional(),
  })
  .refine(
    (o) => [o.metadataUrl, o.metadataXml, o.signInEndpoint].filter((v) => v !== undefined).length === 1,
    'needs exactly one of metadataUrl, metadataXml, or signInEndpoint with signingCert',
  )
  .refine((o) => o.signInEndpoint === undefined || o.signingCert !== undefined, {
    message: 'signInEndpoint needs signingCert',
    path: ['signingCert'],
  });

const clientCredentials = {
  clientId: z.string().min(1, 'must not be empty').max(255),
  clientSecret: z.string().min(1, 'must not be empty').max(1024),
};

const enterprise = { domains: domains.optional(), ...membership };

const samlConnection = z.strictObject({ saml: samlOptions, ...enterprise });
const oidcConnection = z.strictObject({
  oidc: z.strictObject({
    discoveryUrl: httpsUrl,
    ...clientCredentials,
    clientSecret: clientCredentials.clientSecret.optional(),
    type: z.enum(['front_channel', 'back_channel']).optional(),
    scope: z.string().max(1024).optional(),
  }),
  ...enterprise,
});
const azureAdConnection = z.strictObject({
  azureAd: z.strictObject({ domain, ...clientCredentials }),
  ...enterprise,
});
const oktaConnection = z.strictObject({
  okta: z.strictObject({ domain, ...clientCredentials }),
  ...enterprise,
});
const googleWorkspaceConnection = z.strictObject({
  googleWorkspace: z.strictObject({ domain, ...clientCredentials }),
  ...enterprise,
});
const adfsConnection = z.strictObject({
  adfs: z
    .strictObject({ metadataUrl: httpsUrl.optional(), metadataXml: metadataXml.optional() })
    .refine(
      (o) => (o.metadataUrl === undefined) !== (o.metadataXml === undefined),
      'needs exactly one of metadataUrl or metadataXml',
    ),
  ...enterprise,
});

export const CONNECTION_KINDS = [
  'shared',
  'database',
  'saml',
  'oidc',
  'azureAd',
  'okta',
  'googleWorkspace',
  'adfs',
] as const;
export type ConnectionKind = (typeof CONNECTION_KINDS)[number];

const connectionEntry = z.union([
  sharedConnection,
  databaseConnection,
  samlConnection,
  oidcConnection,
  azureAdConnection,
  oktaConnection,
  googleWorkspaceConnection,
  adfsConnection,
]);

const application = z.strictObject({
  /** The name of an existing Auth0 application (client) this organization's users sign in to. */
  client: z.string().min(1, 'must name an existing application').max(255),
  callbacks: urlList.optional(),
  logoutUrls: urlList.optional(),
  webOrigins: urlList.optional(),
});

const metadata = z
  .record(
    z.string(),
    z.string({ error: 'values must be strings' }).max(255, 'values must be at most 255 characters'),
  )
  .refine((record) => Object.keys(record).length <= MAX_USER_METADATA_KEYS, {
    message: `must have at most ${MAX_USER_METADATA_KEYS} keys (Auth0 allows 25; orgadmin keeps one for its ownership tag)`,
  })
  .refine((record) => Object.keys(record).every((key) => !key.startsWith(RESERVED_METADATA_PREFIX)), {
    message: `keys starting with "${RESERVED_METADATA_PREFIX}" are reserved for orgadmin`,
  })
  .refine(
    (record) =>
      Object.keys(record).every((key) => key.length > 0 && key.length <= 255 && !RESERVED_NAMES.has(key)),
    {
      message: 'keys must be 1-255 characters and not a reserved name',
    },
  );

export const orgSpecSchema = z
  .strictObject({
    name: organizationNameSchema,
    displayName: displayName.optional(),
    isolation: z.enum(['shared', 'isolated-database', 'dedicated-tenant']).default('shared'),
    /** The registered tenant for `dedicated-tenant` (default: one created or found under the organization's name). */
    tenant: z.string().min(1).max(100).optional(),
    metadata: metadata.optional(),
    branding: z
      .strictObject({
        logoUrl: httpsUrl.optional(),
        colors: z.strictObject({ primary: htmlColor, pageBackground: htmlColor }).optional(),
      })
      .optional(),
    connections: z
      .array(connectionEntry)
      .max(MAX_CONNECTIONS, `must hold at most ${MAX_CONNECTIONS} connections (Auth0 limit per organization)`)
      .default([]),
    applications: z.array(application).max(50, 'must hold at most 50 applications').default([]),
    admin: z
      .strictObject({
        email: z.email('must be an email address').max(254),
        name: z.string().min(1).max(300).optional(),
        via: z.enum(['invitation', 'password-ticket']).default('invitation'),
      })
      .optional(),
    /** Free-form configuration of the SaaS application for this organization, kept in orgadmin's database. */
    app: z.record(z.string(), z.json()).optional(),
  })
  .superRefine((spec, ctx) => {
    const kinds = spec.connections.map(connectionKind);
    const databases = kinds.filter((kind) => kind === 'database').length;
    if (spec.isolation === 'isolated-database' && databases !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['connections'],
        message: 'isolation "isolated-database" needs exactly one `database: {}` connection',
      });
    }
    if (spec.isolation === 'shared' && databases > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['connections'],
        message:
          'isolation "shared" uses a shared connection; a `database` connection needs isolation "isolated-database"',
      });
    }
    kinds.forEach((kind, index) => {
      if (kind !== 'shared' && kinds.indexOf(kind) !== index) {
        ctx.addIssue({
          code: 'custom',
          path: ['connections', index],
          message: `at most one ${kind} connection per organization`,
        });
      }
    });
    const sharedNames = spec.connections.flatMap((entry) => ('shared' in entry ? [entry.shared] : []));
    sharedNames.forEach((name, index) => {
      if (sharedNames.indexOf(name) !== index) {
        ctx.addIssue({
          code: 'custom',
          path: ['connections'],
          message: `shared connection "${name}" is listed twice`,
        });
      }
    });
    const seenDomains = new Set<string>();
    spec.connections.forEach((entry, index) => {
      for (const item of 'domains' in entry ? (entry.domains ?? []) : []) {
        if (seenDomains.has(item)) {
          ctx.addIssue({
            code: 'custom',
            path: ['connections', index, 'domains'],
            message: `domain ${item} is used by two connections`,
          });
        }
        seenDomains.add(item);
      }
    });
    spec.connections.forEach((entry, index) => {
      if ('database' in entry && entry.database.signupEnabled && entry.assignMembershipOnLogin !== true) {
        ctx.addIssue({
          code: 'custom',
          path: ['connections', index, 'database', 'signupEnabled'],
          message: 'needs assignMembershipOnLogin: true (Auth0 rule for is_signup_enabled)',
        });
      }
    });
    if (
      spec.admin?.via === 'password-ticket' &&
      !kinds.some((kind) => kind === 'database' || kind === 'shared')
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['admin', 'via'],
        message:
          '"password-ticket" creates the admin in a database connection; add a `database` or `shared` connection',
      });
    }
    if (spec.admin?.via === 'invitation' && spec.applications.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['admin', 'via'],
        message: 'an invitation is sent for an application; list at least one in `applications`',
      });
    }
    const clients = spec.applications.map((app) => app.client);
    clients.forEach((client, index) => {
      if (clients.indexOf(client) !== index) {
        ctx.addIssue({
          code: 'custom',
          path: ['applications', index, 'client'],
          message: `application "${client}" is listed twice`,
        });
      }
    });
  });

export type OrgSpec = z.output<typeof orgSpecSchema>;
export type OrgSpecInput = z.input<typeof orgSpecSchema>;
export type ConnectionSpec = OrgSpec['connections'][number];
export type ApplicationSpec = OrgSpec['applications'][number];

export function connectionKind(entry: ConnectionSpec): ConnectionKind {
  const kind = CONNECTION_KINDS.find((candidate) => candidate in entry);
  if (!kind) throw new Error('unreachable: a validated connection entry has a kind');
  return kind;
}

/** Fields that hold secrets; they are encrypted at rest and never shown. */
export const SECRET_FIELDS = ['clientSecret'] as const;

/** The spec as it may be shown or logged: every secret replaced by "(set)". */
export function redactSecrets(spec: OrgSpec): OrgSpec {
  return {
    ...spec,
    connections: spec.connections.map((entry) => {
      const copy: Record<string, unknown> = { ...entry };
      for (const [key, value] of Object.entries(entry)) {
        if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
          copy[key] = Object.fromEntries(
            Object.entries(value as Record<string, unknown>).map(([field, fieldValue]) => [
              field,
              (SECRET_FIELDS as readonly string[]).includes(field) && fieldValue !== undefined
                ? '(set)'
                : fieldValue,
            ]),
          );
        }
      }
      return copy as ConnectionSpec;
    }),
  };
}

/**
 * A spec sent back from a form that showed secrets as "(set)": each "(set)" takes the secret of the same kind of
 * connection in `current`, so an edit never needs the secret again. Returns the paths of "(set)" values that have no
 * secret to keep (the caller reports them as invalid).
 */
export function keepRedactedSecrets(
  spec: OrgSpec,
  current: OrgSpec | undefined,
): { spec: OrgSpec; missing: string[] } {
  const missing: string[] = [];
  const connections = spec.connections.map((entry, index) => {
    const kind = connectionKind(entry);
    const before = current?.connections.find((candidate) => connectionKind(candidate) === kind);
    const copy: Record<string, unknown> = { ...entry };
    for (const [key, value] of Object.entries(entry)) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) continue;
      const options: Record<string, unknown> = { ...(value as Record<string, unknown>) };
      for (const field of SECRET_FIELDS) {
        if (options[field] !== '(set)') continue;
        const beforeOptions = before ? (before as Record<string, unknown>)[key] : undefined;
        const kept =
          beforeOptions !== null && typeof beforeOptions === 'object'
            ? (beforeOptions as Record<string, unknown>)[field]
            : undefined;
        if (typeof kept === 'string') options[field] = kept;
        else missing.push(`connections[${index}].${key}.${field}`);
      }
      copy[key] = options;
    }
    return copy as ConnectionSpec;
  });
  return { spec: { ...spec, connections }, missing };
}
