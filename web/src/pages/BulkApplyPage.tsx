/**
 * `/bulk-apply`: many organizations from one file. An operator picks a YAML or CSV file; the server checks all of it
 * at once (every problem listed by row or document, field and rule; nothing starts unless the whole file is valid),
 * then "Start bulk apply" records the batch and opens its progress page. Below, the recent bulk applies.
 */
import { useState, type ChangeEvent } from 'react';

import {
  api,
  ApiError,
  errorMessage,
  type Batch,
  type BatchDetail,
  type BulkValidation,
  type Page,
} from '../api.js';
import { EmptyState, ErrorState, Loading, TableWrap, Time } from '../components/ui.js';
import { useDocumentTitle, useFetch } from '../hooks.js';
import { Link, navigate } from '../router.js';
import { useSession } from '../session.js';
import { BatchStateBadge, formatDuration } from './BatchPage.js';

/** The server's limit (src/services/bulk-apply.ts); checked here first so a huge file is not read for nothing. */
const MAX_FILE_BYTES = 10 * 1024 * 1024;

/** The CSV columns, as the server maps them onto the spec (src/services/bulk-apply.ts, CSV_COLUMNS). */
export const CSV_COLUMN_HELP: [string, string][] = [
  ['name', 'the organization name (required): lowercase letters, digits, "_" and "-"'],
  ['displayName', 'the name people see'],
  ['isolation', 'shared (default), isolated-database (adds its own database connection) or dedicated-tenant'],
  ['tenant', 'the registered tenant of a dedicated-tenant organization'],
  ['sharedConnections', 'existing connections to enable for it, separated by spaces'],
  ['passwordPolicy', 'none, low, fair, good or excellent: its own database connection’s policy'],
  ['samlMetadataUrl', 'https URL of the customer’s SAML metadata: adds a SAML connection'],
  ['ssoDomains', 'email domains that sign in with the SAML connection, separated by spaces'],
  ['assignMembershipOnLogin', 'true or false, for every connection of the row'],
  ['application', 'an existing application the members sign in to'],
  ['callbackUrls', 'the application’s callback URLs for it, separated by spaces'],
  ['logoutUrls', 'allowed logout URLs, separated by spaces'],
  ['webOrigins', 'allowed web origins, separated by spaces'],
  ['adminEmail', 'the organization’s first administrator'],
  ['adminName', 'the administrator’s name'],
  ['adminVia', 'invitation (default) or password-ticket'],
  ['metadata.KEY', 'one metadata value per column, e.g. metadata.plan'],
];

interface Upload {
  fileName: string;
  content: string;
}

type Check =
  | { state: 'checking'; upload: Upload }
  | { state: 'valid'; upload: Upload; result: BulkValidation }
  | { state: 'invalid'; fileName: string; error: Error };

export function BulkApplyPage() {
  useDocumentTitle('Bulk apply');
  const session = useSession();
  const batches = useFetch<Page<Batch>>('/api/v1/batches?limit=20');

  return (
    <>
      <h1>Bulk apply</h1>
      <p className="hint">
        Create or update many organizations from one file: YAML documents separated by <code>---</code> (the
        format of <code>orgadmin org apply</code>) or a CSV file with a header row. The whole file is checked
        first; nothing starts unless every row is valid. Each organization then gets its own run.
      </p>
      {session.gitops ? (
        <p className="callout callout-warning">
          This installation runs in GitOps mode, where a change is a commit to the organization repository:
          bulk apply, which starts runs directly, works in live mode only.
        </p>
      ) : (
        session.isOperator && <UploadForm />
      )}
      <details className="preview">
        <summary>CSV columns</summary>
        <TableWrap label="CSV columns">
          <table>
            <caption className="visually-hidden">The columns a CSV file may have</caption>
            <thead>
              <tr>
                <th scope="col">Column</th>
                <th scope="col">Meaning</th>
              </tr>
            </thead>
            <tbody>
              {CSV_COLUMN_HELP.map(([column, help]) => (
                <tr key={column}>
                  <td>
                    <code>{column}</code>
                  </td>
                  <td>{help}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
        <p className="small muted">
          Empty cells leave a field out. Cells may be quoted (<code>&quot;a, b&quot;</code>); a header row
          with no comma but semicolons is read with <code>;</code>. Up to 10 MiB and 10,000 organizations per
          file.
        </p>
      </details>

      <h2>Recent bulk applies</h2>
      {batches.error && !batches.data ? (
        <ErrorState
          title="The bulk applies could not be loaded"
          error={batches.error}
          onRetry={batches.reload}
        />
      ) : !batches.data ? (
        <Loading label="Loading bulk applies…" />
      ) : batches.data.items.length === 0 ? (
        <EmptyState title="No bulk applies yet." />
      ) : (
        <TableWrap label="Bulk applies table">
          <table>
            <thead>
              <tr>
                <th scope="col">File</th>
                <th scope="col">State</th>
                <th scope="col">Organizations</th>
                <th scope="col">Succeeded</th>
                <th scope="col">Failed</th>
                <th scope="col">Not started</th>
                <th scope="col">Duration</th>
                <th scope="col">Requested by</th>
                <th scope="col">Uploaded</th>
              </tr>
            </thead>
            <tbody>
              {batches.data.items.map((batch) => (
                <tr key={batch.id} className={batch.failed + batch.notStarted > 0 ? 'row-failed' : undefined}>
                  <td>
                    <Link to={`/bulk-apply/${encodeURIComponent(batch.id)}`}>{batch.sourceName}</Link>
                  </td>
                  <td>
                    <BatchStateBadge state={batch.state} />
                  </td>
                  <td>{batch.total}</td>
                  <td>{batch.succeeded}</td>
                  <td>{batch.failed}</td>
                  <td>{batch.notStarted}</td>
                  <td>{formatDuration(batch.durationMs)}</td>
                  <td>{batch.requestedBy}</td>
                  <td>
                    <Time value={batch.createdAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
    </>
  );
}

function UploadForm() {
  const [check, setCheck] = useState<Check | null>(null);
  const [starting, setStarting] = useState(false);
  const [startError, setStartError] = useState<string | null>(null);

  async function validate(upload: Upload): Promise<void> {
    setCheck({ state: 'checking', upload });
    setStartError(null);
    try {
      const result = await api.post<BulkValidation>('/api/v1/batches/validate', upload);
      setCheck({ state: 'valid', upload, result });
    } catch (failure) {
      setCheck({
        state: 'invalid',
        fileName: upload.fileName,
        error: failure instanceof Error ? failure : new Error(errorMessage(failure)),
      });
    }
  }

  function onChoose(event: ChangeEvent<HTMLInputElement>): void {
    const file = event.target.files?.[0];
    if (!file) return;
    if (file.size > MAX_FILE_BYTES) {
      setCheck({
        state: 'invalid',
        fileName: file.name,
        error: new Error('The file is larger than 10 MiB.'),
      });
      return;
    }
    file.text().then(
      (content) => void validate({ fileName: file.name, content }),
      () =>
        setCheck({
          state: 'invalid',
          fileName: file.name,
          error: new Error(`${file.name} could not be read.`),
        }),
    );
  }

  async function start(upload: Upload): Promise<void> {
    setStarting(true);
    setStartError(null);
    try {
      const batch = await api.post<BatchDetail>('/api/v1/batches', upload);
      navigate(`/bulk-apply/${encodeURIComponent(batch.id)}`);
    } catch (failure) {
      setStartError(`The bulk apply could not be started: ${errorMessage(failure)}`);
      setStarting(false);
    }
  }

  const issues = check?.state === 'invalid' && check.error instanceof ApiError ? check.error.issues : [];
  return (
    <section className="card bulk-upload" aria-labelledby="bulk-upload-heading">
      <h2 id="bulk-upload-heading">Upload a file</h2>
      <div className="field">
        <label htmlFor="bulk-file">Spec file (YAML or CSV)</label>
        <p className="hint" id="bulk-file-hint">
          .yaml, .yml, .json or .csv — up to 10 MiB and 10,000 organizations.
        </p>
        <input
          id="bulk-file"
          type="file"
          accept=".csv,.yaml,.yml,.json,text/csv,application/yaml,application/json"
          aria-describedby="bulk-file-hint"
          aria-invalid={check?.state === 'invalid' || undefined}
          onChange={onChoose}
        />
      </div>
      <div role="status">
        {check?.state === 'checking' && <Loading label={`Checking ${check.upload.fileName}…`} />}
        {check?.state === 'valid' && (
          <div className="callout callout-success">
            <p className="callout-title">{check.upload.fileName} is valid</p>
            <p>
              {check.result.total} organization{check.result.total === 1 ? '' : 's'}: {check.result.creates}{' '}
              to create, {check.result.updates} to update.
            </p>
            {check.result.busyCount > 0 && (
              <p>
                {check.result.busyCount} of them have an unfinished run and will not be started:{' '}
                {check.result.busy.join(', ')}
                {check.result.busyCount > check.result.busy.length ? ', …' : ''}.
              </p>
            )}
          </div>
        )}
      </div>
      {check?.state === 'invalid' && (
        <div className="callout callout-error" role="alert">
          <p className="callout-title">{check.fileName} cannot be applied</p>
          {issues.length > 0 ? (
            <>
              <p>Nothing was started. Fix these problems and choose the file again:</p>
              <ul aria-label="Problems in the file">
                {issues.map((issue, index) => (
                  <li key={index}>
                    <code>{issue.path}</code>: {issue.message}
                  </li>
                ))}
              </ul>
            </>
          ) : (
            <p>{check.error.message}</p>
          )}
        </div>
      )}
      {startError && (
        <p className="callout callout-error" role="alert">
          {startError}
        </p>
      )}
      <div className="form-actions">
        <button
          type="button"
          className="button-primary"
          disabled={check?.state !== 'valid' || starting}
          onClick={() => {
            if (check?.state === 'valid') void start(check.upload);
          }}
        >
          {starting ? 'Starting…' : 'Start bulk apply'}
        </button>
      </div>
    </section>
  );
}
