/**
 * The sections of a spec form, shared by the create wizard (one per step) and the editor (all on one page):
 * Basics, Connections, Applications, Administrator. Every control is labelled uniquely on the page (a connection's
 * fields carry its kind: "SAML metadata URL", "Okta client ID") so that they can be found by label.
 */
import { useState, type ChangeEvent } from 'react';

import { connectionNameFor, slugOf } from '../../../src/domain/naming.js';
import { query, type Catalog, type Isolation, type SamlServiceProvider } from '../api.js';
import { CopyButton, ErrorState, Loading } from '../components/ui.js';
import { useDebounced, useFetch, type FetchState } from '../hooks.js';
import {
  Checkbox,
  FieldIssues,
  RadioGroup,
  SelectField,
  TextArea,
  TextField,
  idFor,
  useIssues,
} from './fields.js';
import {
  KIND_LABEL,
  OWN_KINDS,
  newApplication,
  newConnection,
  type AdfsForm,
  type AdminVia,
  type ConnectionForm,
  type CredentialForm,
  type DatabaseForm,
  type FormState,
  type OidcForm,
  type OwnKind,
  type PasswordPolicy,
  type SamlForm,
} from './model.js';

type SetForm = (update: (form: FormState) => FormState) => void;

interface SectionProps {
  form: FormState;
  setForm: SetForm;
}

const NAME_PATTERN = /^[a-z0-9_-]{1,50}$/;
const isValidName = (name: string): boolean => NAME_PATTERN.test(name);

// ---------------------------------------------------------------------------------------------------- Basics

export const ISOLATION_OPTIONS: { value: Isolation; label: string; description: string }[] = [
  {
    value: 'shared',
    label: 'Shared',
    description:
      "Users sign in through the tenant's shared connections; only the organization itself is created.",
  },
  {
    value: 'isolated-database',
    label: 'Isolated database',
    description:
      "A database connection of its own keeps this organization's users apart from everyone else's.",
  },
  {
    value: 'dedicated-tenant',
    label: 'Dedicated tenant',
    description: 'The organization lives in an Auth0 tenant of its own, from the tenant registry.',
  },
];

/** Keeps the connections consistent with the isolation model: exactly one database for isolated-database, none for shared. */
function withIsolation(form: FormState, isolation: Isolation): FormState {
  let connections = form.connections;
  if (isolation === 'isolated-database' && !connections.some((entry) => entry.kind === 'database')) {
    connections = [...connections, newConnection('database')];
  }
  if (isolation === 'shared') connections = connections.filter((entry) => entry.kind !== 'database');
  return { ...form, isolation, connections };
}

export function BasicsSection({ form, setForm, mode }: SectionProps & { mode: 'create' | 'edit' }) {
  return (
    <div className="section-fields">
      <TextField
        path="name"
        label="Name"
        required
        value={form.name}
        disabled={mode === 'edit'}
        validateWhileTyping
        onChange={(name) => setForm((current) => ({ ...current, name }))}
        hint={
          mode === 'edit'
            ? 'The name of an organization cannot be changed.'
            : 'Lowercase letters a–z, digits, "_" and "-"; at most 50 characters. It cannot be changed later.'
        }
      />
      {mode === 'create' && isValidName(form.name) && (
        <p className="hint derived">
          Connections created for this organization will be named <code>{slugOf(form.name)}-db</code>,{' '}
          <code>{slugOf(form.name)}-saml</code>, …
        </p>
      )}
      <TextField
        path="displayName"
        label="Display name"
        value={form.displayName}
        onChange={(displayName) => setForm((current) => ({ ...current, displayName }))}
        hint="Shown to the organization's users on the login page. Optional, at most 255 characters."
      />
      <RadioGroup
        path="isolation"
        legend="Isolation model"
        name="isolation"
        value={form.isolation}
        options={ISOLATION_OPTIONS}
        onChange={(isolation) => setForm((current) => withIsolation(current, isolation))}
      />
      {form.isolation === 'dedicated-tenant' && (
        <TextField
          path="tenant"
          label="Tenant"
          value={form.tenant}
          onChange={(tenant) => setForm((current) => ({ ...current, tenant }))}
          hint="A registered tenant. Leave empty to use the tenant named after the organization."
        />
      )}
    </div>
  );
}

// ---------------------------------------------------------------------------------------------------- Connections

function updateConnection<T extends ConnectionForm>(setForm: SetForm, uid: string, fields: Partial<T>): void {
  setForm((form) => ({
    ...form,
    connections: form.connections.map((entry) => (entry.uid === uid ? { ...entry, ...fields } : entry)),
  }));
}

// The kinds' own names; the database option says that it creates a new connection.
const ADD_OPTION_LABEL: Record<OwnKind, string> = { ...KIND_LABEL, database: 'New database connection' };

function focusSoon(id: string): void {
  window.requestAnimationFrame(() => document.getElementById(id)?.focus());
}

export function ConnectionsSection({
  form,
  setForm,
  catalog,
}: SectionProps & { catalog: FetchState<Catalog> }) {
  const issues = useIssues();
  const present = new Set(form.connections.map((entry) => entry.kind));
  const addable = OWN_KINDS.filter(
    (kind) => !present.has(kind) && !(kind === 'database' && form.isolation === 'shared'),
  );
  const [choice, setChoice] = useState<OwnKind | ''>('');
  const selected = choice !== '' && addable.includes(choice) ? choice : (addable[0] ?? '');

  function add(): void {
    if (selected === '') return;
    const index = form.connections.length;
    setForm((current) => ({ ...current, connections: [...current.connections, newConnection(selected)] }));
    focusSoon(idFor(`connections[${index}]`));
  }

  return (
    <div className="section-fields" id={idFor('connections')} tabIndex={-1}>
      <FieldIssues id="connections-error" messages={issues.at('connections', true)} />
      <SharedConnections form={form} setForm={setForm} catalog={catalog} />
      {form.connections.map((entry, index) =>
        entry.kind === 'shared' ? null : (
          <ConnectionCard key={entry.uid} entry={entry} index={index} form={form} setForm={setForm} />
        ),
      )}
      {addable.length > 0 && (
        <div className="add-row">
          <div className="field">
            <label htmlFor="add-connection-kind">Connection type</label>
            <select
              id="add-connection-kind"
              value={selected}
              onChange={(event) => setChoice(event.target.value as OwnKind)}
            >
              {addable.map((kind) => (
                <option key={kind} value={kind}>
                  {ADD_OPTION_LABEL[kind]}
                </option>
              ))}
            </select>
          </div>
          <button type="button" onClick={add}>
            Add connection
          </button>
        </div>
      )}
      {form.isolation === 'shared' && (
        <p className="hint">
          A new database connection needs the isolation model “Isolated database” or “Dedicated tenant”.
        </p>
      )}
    </div>
  );
}

function SharedConnections({ form, setForm, catalog }: SectionProps & { catalog: FetchState<Catalog> }) {
  const issues = useIssues();
  const strategies = new Map((catalog.data?.connections ?? []).map((entry) => [entry.name, entry.strategy]));
  const names = [
    ...new Set([
      ...(catalog.data?.connections ?? []).map((entry) => entry.name),
      ...form.connections.flatMap((entry) => (entry.kind === 'shared' ? [entry.shared] : [])),
    ]),
  ];

  function toggle(name: string, on: boolean): void {
    setForm((current) => ({
      ...current,
      connections: on
        ? [...current.connections, newConnection('shared', name)]
        : current.connections.filter((entry) => !(entry.kind === 'shared' && entry.shared === name)),
    }));
  }

  return (
    <fieldset className="card">
      <legend>Shared connections</legend>
      <p className="hint">Existing connections of the tenant, enabled for this organization too.</p>
      {catalog.loading && !catalog.data && <Loading label="Loading the tenant's connections…" />}
      {catalog.error && (
        <ErrorState
          title="The tenant's connections could not be loaded"
          error={catalog.error}
          onRetry={catalog.reload}
        />
      )}
      {catalog.data && names.length === 0 && <p className="muted">The tenant has no shared connections.</p>}
      <ul className="check-list">
        {names.map((name) => {
          const index = form.connections.findIndex(
            (entry) => entry.kind === 'shared' && entry.shared === name,
          );
          const entry = form.connections[index];
          const id = `shared-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;
          return (
            <li key={name} id={index >= 0 ? idFor(`connections[${index}]`) : undefined} tabIndex={-1}>
              <div className="check">
                <input
                  type="checkbox"
                  id={id}
                  checked={index >= 0}
                  onChange={(event: ChangeEvent<HTMLInputElement>) => toggle(name, event.target.checked)}
                />
                <label htmlFor={id}>{name}</label>
                {strategies.has(name) && <span className="tag">{strategies.get(name)}</span>}
              </div>
              {entry && (
                <div className="nested">
                  <FieldIssues id={`${id}-error`} messages={issues.at(`connections[${index}]`, true)} />
                  <MembershipFields entry={entry} index={index} label={name} setForm={setForm} />
                </div>
              )}
            </li>
          );
        })}
      </ul>
    </fieldset>
  );
}

function MembershipFields({
  entry,
  index,
  label,
  setForm,
}: {
  entry: ConnectionForm;
  index: number;
  label: string;
  setForm: SetForm;
}) {
  return (
    <div className="check-row">
      <Checkbox
        path={`connections[${index}].assignMembershipOnLogin`}
        label={`${label}: assign membership on login`}
        checked={entry.assignMembershipOnLogin ?? false}
        onChange={(assignMembershipOnLogin) =>
          updateConnection(setForm, entry.uid, { assignMembershipOnLogin })
        }
      />
      <Checkbox
        path={`connections[${index}].showAsButton`}
        label={`${label}: show as button`}
        checked={entry.showAsButton ?? true}
        onChange={(showAsButton) => updateConnection(setForm, entry.uid, { showAsButton })}
      />
    </div>
  );
}

function ConnectionCard({
  entry,
  index,
  form,
  setForm,
}: {
  entry: Exclude<ConnectionForm, { kind: 'shared' }>;
  index: number;
  form: FormState;
  setForm: SetForm;
}) {
  const issues = useIssues();
  const label = KIND_LABEL[entry.kind];
  const path = `connections[${index}]`;
  const cardIssues = [...issues.at(path, true), ...issues.at(`${path}.${entry.kind}`, true)];

  function remove(): void {
    setForm((current) => ({
      ...current,
      connections: current.connections.filter((other) => other.uid !== entry.uid),
    }));
    focusSoon('add-connection-kind');
  }

  return (
    <fieldset className="card" id={idFor(path)} tabIndex={-1}>
      <legend>
        {label} connection
        {isValidName(form.name) && (
          <code className="legend-note">{connectionNameFor(form.name, entry.kind)}</code>
        )}
      </legend>
      <div className="card-actions">
        <button
          type="button"
          className="button-small button-quiet"
          aria-label={`Remove ${label} connection`}
          onClick={remove}
        >
          Remove
        </button>
      </div>
      <FieldIssues id={`${idFor(path)}-error`} messages={cardIssues} />
      {entry.kind === 'database' && <DatabaseFields entry={entry} path={path} setForm={setForm} />}
      {entry.kind === 'saml' && (
        <SamlFields entry={entry} path={path} setForm={setForm} orgName={form.name} />
      )}
      {entry.kind === 'oidc' && <OidcFields entry={entry} path={path} setForm={setForm} />}
      {(entry.kind === 'azureAd' || entry.kind === 'okta' || entry.kind === 'googleWorkspace') && (
        <CredentialFields entry={entry} path={path} setForm={setForm} />
      )}
      {entry.kind === 'adfs' && <AdfsFields entry={entry} path={path} setForm={setForm} />}
      {entry.kind !== 'database' && (
        <TextField
          path={`${path}.domains`}
          label={`${label} home-realm domains`}
          value={entry.domains}
          onChange={(domains) => updateConnection(setForm, entry.uid, { domains })}
          hint="Comma separated, e.g. acme.com, acme.co.uk: people with these email domains sign in through this connection."
        />
      )}
      <MembershipFields entry={entry} index={index} label={label} setForm={setForm} />
    </fieldset>
  );
}

const PASSWORD_POLICIES: { value: PasswordPolicy; label: string }[] = [
  { value: 'none', label: 'None' },
  { value: 'low', label: 'Low' },
  { value: 'fair', label: 'Fair' },
  { value: 'good', label: 'Good (default)' },
  { value: 'excellent', label: 'Excellent' },
];

function DatabaseFields({ entry, path, setForm }: { entry: DatabaseForm; path: string; setForm: SetForm }) {
  return (
    <>
      <SelectField
        path={`${path}.database.passwordPolicy`}
        label="Password policy"
        value={entry.passwordPolicy ?? 'good'}
        options={PASSWORD_POLICIES}
        onChange={(passwordPolicy) => updateConnection<DatabaseForm>(setForm, entry.uid, { passwordPolicy })}
      />
      <div className="check-row">
        <Checkbox
          path={`${path}.database.requiresUsername`}
          label="Require a username"
          checked={entry.requiresUsername ?? false}
          onChange={(requiresUsername) =>
            updateConnection<DatabaseForm>(setForm, entry.uid, { requiresUsername })
          }
        />
        <Checkbox
          path={`${path}.database.signupEnabled`}
          label="Allow sign-up on the organization's login page"
          hint="Needs “assign membership on login”."
          checked={entry.signupEnabled ?? false}
          onChange={(signupEnabled) => updateConnection<DatabaseForm>(setForm, entry.uid, { signupEnabled })}
        />
      </div>
    </>
  );
}

/** Reads an uploaded metadata file into the form (the spec carries the XML itself). */
function MetadataFileField({
  path,
  label,
  fileName,
  xmlLength,
  onLoad,
}: {
  path: string;
  label: string;
  fileName: string;
  xmlLength: number;
  onLoad: (xml: string, fileName: string) => void;
}) {
  const issues = useIssues();
  const messages = issues.at(path);
  const id = idFor(path);
  const [readError, setReadError] = useState<string | null>(null);

  function onChange(event: ChangeEvent<HTMLInputElement>): void {
    const file = event.target.files?.[0];
    if (!file) return;
    file.text().then(
      (xml) => {
        setReadError(null);
        onLoad(xml, file.name);
        issues.touch(path);
      },
      () => setReadError(`${file.name} could not be read.`),
    );
  }

  const status =
    xmlLength === 0
      ? 'No file chosen yet.'
      : fileName !== ''
        ? `Loaded ${fileName} (${Math.max(1, Math.round(xmlLength / 1024))} KB).`
        : `The current metadata XML (${xmlLength.toLocaleString()} characters) is kept unless you choose a file.`;

  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <p className="hint" id={`${id}-hint`}>
        {status}
      </p>
      <input
        id={id}
        type="file"
        accept=".xml,application/xml,text/xml,application/samlmetadata+xml"
        aria-describedby={[`${id}-hint`, messages.length > 0 ? `${id}-error` : ''].join(' ').trim()}
        aria-invalid={messages.length > 0 || undefined}
        onChange={onChange}
      />
      {readError && <p className="field-error">{readError}</p>}
      <FieldIssues id={`${id}-error`} messages={messages} />
    </div>
  );
}

function SamlFields({
  entry,
  path,
  setForm,
  orgName,
}: {
  entry: SamlForm;
  path: string;
  setForm: SetForm;
  orgName: string;
}) {
  const update = (fields: Partial<SamlForm>): void => updateConnection<SamlForm>(setForm, entry.uid, fields);
  return (
    <>
      <SelectField
        path={`${path}.saml.source`}
        label="SAML configuration"
        value={entry.source}
        options={[
          { value: 'url', label: 'Metadata URL' },
          { value: 'xml', label: 'Metadata XML file' },
          { value: 'manual', label: 'Sign-in URL and signing certificate' },
        ]}
        onChange={(source) => update({ source })}
        hint="How the customer's identity provider is described."
      />
      {entry.source === 'url' && (
        <TextField
          path={`${path}.saml.metadataUrl`}
          label="SAML metadata URL"
          type="url"
          placeholder="https://idp.example.com/metadata"
          value={entry.metadataUrl}
          onChange={(metadataUrl) => update({ metadataUrl })}
        />
      )}
      {entry.source === 'xml' && (
        <MetadataFileField
          path={`${path}.saml.metadataXml`}
          label="SAML metadata XML file"
          fileName={entry.xmlFileName}
          xmlLength={entry.metadataXml.length}
          onLoad={(metadataXml, xmlFileName) => update({ metadataXml, xmlFileName })}
        />
      )}
      {entry.source === 'manual' && (
        <>
          <TextField
            path={`${path}.saml.signInEndpoint`}
            label="SAML sign-in URL"
            type="url"
            placeholder="https://idp.example.com/sso"
            value={entry.signInEndpoint}
            onChange={(signInEndpoint) => update({ signInEndpoint })}
          />
          <TextArea
            path={`${path}.saml.signingCert`}
            label="SAML signing certificate"
            rows={4}
            placeholder="-----BEGIN CERTIFICATE-----"
            value={entry.signingCert}
            onChange={(signingCert) => update({ signingCert })}
            hint="The identity provider's signing certificate, PEM or base64."
          />
        </>
      )}
      <TextField
        path={`${path}.saml.signOutEndpoint`}
        label="SAML sign-out URL (optional)"
        type="url"
        value={entry.signOutEndpoint}
        onChange={(signOutEndpoint) => update({ signOutEndpoint })}
      />
      <SamlServiceProviderPanel orgName={orgName} />
    </>
  );
}

const SP_FIELDS: { key: keyof SamlServiceProvider; label: string }[] = [
  { key: 'acsUrl', label: 'ACS URL' },
  { key: 'entityId', label: 'Entity ID' },
  { key: 'signInUrl', label: 'Sign-in URL' },
  { key: 'certificateUrl', label: 'Certificate URL' },
  { key: 'metadataUrl', label: 'Metadata URL' },
];

/** What the customer's IT enters in their identity provider; known before the organization exists. */
function SamlServiceProviderPanel({ orgName }: { orgName: string }) {
  const name = useDebounced(orgName, 300);
  const valid = isValidName(name);
  const sp = useFetch<SamlServiceProvider>(valid ? `/api/v1/saml-sp${query({ org: name })}` : null);
  return (
    <section className="sp-panel" aria-labelledby="sp-panel-title">
      <h4 id="sp-panel-title">Details for the customer&apos;s IT</h4>
      {!valid ? (
        <p className="muted">Enter a valid organization name under Basics to see these details.</p>
      ) : sp.error ? (
        <ErrorState
          title="The service-provider details could not be loaded"
          error={sp.error}
          onRetry={sp.reload}
        />
      ) : !sp.data ? (
        <Loading />
      ) : (
        <>
          <p className="hint">
            Send these to the customer&apos;s IT team to set up the application in their identity provider
            (connection <code>{sp.data.connectionName}</code>).
          </p>
          <dl className="sp-list">
            {SP_FIELDS.map(({ key, label }) => (
              <div key={key}>
                <dt>{label}</dt>
                <dd>
                  <code>{sp.data?.[key]}</code>
                  <CopyButton value={sp.data?.[key] ?? ''} label={`Copy ${label}`} />
                </dd>
              </div>
            ))}
          </dl>
        </>
      )}
    </section>
  );
}

/** A client secret: blank means "keep the current one" when one is set (sent back as "(set)"). */
function SecretField({
  path,
  label,
  entry,
  onChange,
  required,
}: {
  path: string;
  label: string;
  entry: { clientSecret: string; secretSet: boolean };
  onChange: (clientSecret: string) => void;
  required?: boolean;
}) {
  return (
    <TextField
      path={path}
      label={label}
      type="password"
      autoComplete="new-password"
      value={entry.clientSecret}
      required={required && !entry.secretSet}
      placeholder={entry.secretSet ? '(set)' : undefined}
      onChange={onChange}
      hint={
        entry.secretSet
          ? 'A secret is set. Leave this blank to keep it, or type a new one to replace it.'
          : 'Stored encrypted and never shown again.'
      }
    />
  );
}

function OidcFields({ entry, path, setForm }: { entry: OidcForm; path: string; setForm: SetForm }) {
  const update = (fields: Partial<OidcForm>): void => updateConnection<OidcForm>(setForm, entry.uid, fields);
  return (
    <>
      <TextField
        path={`${path}.oidc.discoveryUrl`}
        label="OIDC discovery URL"
        type="url"
        placeholder="https://login.example.com/.well-known/openid-configuration"
        value={entry.discoveryUrl}
        onChange={(discoveryUrl) => update({ discoveryUrl })}
      />
      <TextField
        path={`${path}.oidc.clientId`}
        label="OIDC client ID"
        value={entry.clientId}
        onChange={(clientId) => update({ clientId })}
      />
      <SecretField
        path={`${path}.oidc.clientSecret`}
        label="OIDC client secret"
        entry={entry}
        onChange={(clientSecret) => update({ clientSecret })}
      />
      <SelectField
        path={`${path}.oidc.type`}
        label="OIDC type"
        value={entry.type}
        options={[
          { value: '', label: 'Automatic (back channel with a secret, else front channel)' },
          { value: 'front_channel', label: 'Front channel' },
          { value: 'back_channel', label: 'Back channel' },
        ]}
        onChange={(type) => update({ type })}
      />
      <TextField
        path={`${path}.oidc.scope`}
        label="OIDC scopes (optional)"
        placeholder="openid profile email"
        value={entry.scope}
        onChange={(scope) => update({ scope })}
      />
    </>
  );
}

function CredentialFields({
  entry,
  path,
  setForm,
}: {
  entry: CredentialForm;
  path: string;
  setForm: SetForm;
}) {
  const update = (fields: Partial<CredentialForm>): void =>
    updateConnection<CredentialForm>(setForm, entry.uid, fields);
  const label = KIND_LABEL[entry.kind];
  const placeholder =
    entry.kind === 'azureAd' ? 'acme.onmicrosoft.com' : entry.kind === 'okta' ? 'acme.okta.com' : 'acme.com';
  return (
    <>
      <TextField
        path={`${path}.${entry.kind}.domain`}
        label={`${label} domain`}
        placeholder={placeholder}
        value={entry.domain}
        onChange={(domain) => update({ domain })}
      />
      <TextField
        path={`${path}.${entry.kind}.clientId`}
        label={`${label} client ID`}
        value={entry.clientId}
        onChange={(clientId) => update({ clientId })}
      />
      <SecretField
        path={`${path}.${entry.kind}.clientSecret`}
        label={`${label} client secret`}
        entry={entry}
        required
        onChange={(clientSecret) => update({ clientSecret })}
      />
    </>
  );
}

function AdfsFields({ entry, path, setForm }: { entry: AdfsForm; path: string; setForm: SetForm }) {
  const update = (fields: Partial<AdfsForm>): void => updateConnection<AdfsForm>(setForm, entry.uid, fields);
  return (
    <>
      <SelectField
        path={`${path}.adfs.source`}
        label="ADFS configuration"
        value={entry.source}
        options={[
          { value: 'url', label: 'Metadata URL' },
          { value: 'xml', label: 'Metadata XML file' },
        ]}
        onChange={(source) => update({ source })}
      />
      {entry.source === 'url' ? (
        <TextField
          path={`${path}.adfs.metadataUrl`}
          label="ADFS metadata URL"
          type="url"
          placeholder="https://adfs.example.com/FederationMetadata/2007-06/FederationMetadata.xml"
          value={entry.metadataUrl}
          onChange={(metadataUrl) => update({ metadataUrl })}
        />
      ) : (
        <MetadataFileField
          path={`${path}.adfs.metadataXml`}
          label="ADFS metadata XML file"
          fileName={entry.xmlFileName}
          xmlLength={entry.metadataXml.length}
          onLoad={(metadataXml, xmlFileName) => update({ metadataXml, xmlFileName })}
        />
      )}
    </>
  );
}

// ---------------------------------------------------------------------------------------------------- Applications

export function ApplicationsSection({
  form,
  setForm,
  catalog,
}: SectionProps & { catalog: FetchState<Catalog> }) {
  const issues = useIssues();
  const clientIds = new Map((catalog.data?.clients ?? []).map((client) => [client.name, client.clientId]));
  const names = [
    ...new Set([
      ...(catalog.data?.clients ?? []).map((client) => client.name),
      ...form.applications.map((app) => app.client),
    ]),
  ];

  function toggle(name: string, on: boolean): void {
    setForm((current) => ({
      ...current,
      applications: on
        ? [...current.applications, newApplication(name)]
        : current.applications.filter((app) => app.client !== name),
    }));
  }

  function update(uid: string, fields: Partial<FormState['applications'][number]>): void {
    setForm((current) => ({
      ...current,
      applications: current.applications.map((app) => (app.uid === uid ? { ...app, ...fields } : app)),
    }));
  }

  const urlHint = (
    <>
      One URL per line: https:// (http:// only for localhost). <code>{'{organization_name}'}</code> is
      replaced by the organization&apos;s name, e.g.{' '}
      <code>{'https://{organization_name}.example.com/callback'}</code>.
    </>
  );

  return (
    <div className="section-fields" id={idFor('applications')} tabIndex={-1}>
      <FieldIssues id="applications-error" messages={issues.at('applications', true)} />
      <fieldset className="card">
        <legend>Applications</legend>
        <p className="hint">The existing applications this organization&apos;s users sign in to.</p>
        {catalog.loading && !catalog.data && <Loading label="Loading the tenant's applications…" />}
        {catalog.error && (
          <ErrorState
            title="The tenant's applications could not be loaded"
            error={catalog.error}
            onRetry={catalog.reload}
          />
        )}
        {catalog.data && names.length === 0 && <p className="muted">The tenant has no applications.</p>}
        <ul className="check-list">
          {names.map((name) => {
            const id = `app-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;
            return (
              <li key={name}>
                <div className="check">
                  <input
                    type="checkbox"
                    id={id}
                    checked={form.applications.some((app) => app.client === name)}
                    onChange={(event) => toggle(name, event.target.checked)}
                  />
                  <label htmlFor={id}>{name}</label>
                  {clientIds.has(name) && <code className="muted small">{clientIds.get(name)}</code>}
                </div>
              </li>
            );
          })}
        </ul>
      </fieldset>
      {form.applications.map((app, index) => {
        const path = `applications[${index}]`;
        return (
          <fieldset className="card" key={app.uid} id={idFor(path)} tabIndex={-1}>
            <legend>{app.client}</legend>
            <FieldIssues
              id={`${idFor(path)}-error`}
              messages={[...issues.at(path, true), ...issues.at(`${path}.client`)]}
            />
            <TextArea
              path={`${path}.callbacks`}
              label={`${app.client} callback URLs`}
              value={app.callbacks}
              onChange={(callbacks) => update(app.uid, { callbacks })}
              placeholder="https://{organization_name}.example.com/callback"
              hint={urlHint}
            />
            <TextArea
              path={`${path}.logoutUrls`}
              label={`${app.client} logout URLs`}
              value={app.logoutUrls}
              onChange={(logoutUrls) => update(app.uid, { logoutUrls })}
              placeholder="https://{organization_name}.example.com/"
              hint="One URL per line; the same rules and placeholder as callback URLs."
            />
            <TextArea
              path={`${path}.webOrigins`}
              label={`${app.client} web origins`}
              value={app.webOrigins}
              onChange={(webOrigins) => update(app.uid, { webOrigins })}
              placeholder="https://{organization_name}.example.com"
              hint="One origin per line; the same rules and placeholder as callback URLs."
            />
          </fieldset>
        );
      })}
    </div>
  );
}

// ---------------------------------------------------------------------------------------------------- Administrator

export function AdminSection({ form, setForm }: SectionProps) {
  return (
    <div className="section-fields">
      <p className="hint">
        The organization&apos;s first administrator. Leave both fields empty to add none now.
      </p>
      <TextField
        path="admin.email"
        label="Administrator email"
        type="email"
        autoComplete="off"
        value={form.adminEmail}
        onChange={(adminEmail) => setForm((current) => ({ ...current, adminEmail }))}
      />
      <TextField
        path="admin.name"
        label="Administrator name"
        value={form.adminName}
        onChange={(adminName) => setForm((current) => ({ ...current, adminName }))}
      />
      <RadioGroup<AdminVia>
        path="admin.via"
        legend="How the administrator gets access"
        name="admin-via"
        value={form.adminVia}
        onChange={(adminVia) => setForm((current) => ({ ...current, adminVia }))}
        options={[
          {
            value: 'invitation',
            label: 'Invitation',
            description: 'Auth0 sends an invitation to join the organization (needs an application).',
          },
          {
            value: 'password-ticket',
            label: 'Password-reset ticket',
            description:
              'The user is created in the database connection and you get a link to set a password (needs a database or shared connection).',
          },
        ]}
      />
    </div>
  );
}
