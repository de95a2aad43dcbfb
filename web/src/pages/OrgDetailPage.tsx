/**
 * `/organizations/:name`: the organization, its current (or latest) run as a live timeline, the Auth0 objects it
 * owns, what the application's hooks returned for it (with a link to its lifecycle events), its spec, run history
 * and audit trail; Edit (operator) and Remove (admin, after a recent sign-in, confirmed
 * by typing the name). Back from re-authentication with `?remove=1`, the remove dialog opens again. In GitOps mode
 * the page shows what is deployed, and Remove commits the removal (with an optional reason) and shows the commit.
 */
import { useEffect, useRef, useState } from 'react';

import {
  api,
  ApiError,
  orgPath,
  query,
  type AuditEntry,
  type Committed,
  type Organization,
  type Page,
  type RemovalPlan,
  type Run,
} from '../api.js';
import { FreshSignInNeeded, TypedConfirmation } from '../components/Confirm.js';
import { CommittedNotice, DeployedStateNote, ReasonField, reasonBody } from '../components/GitOps.js';
import { Modal } from '../components/Modal.js';
import { RunTimeline, useRunStream } from '../components/RunTimeline.js';
import { RunsTable } from '../components/RunsTable.js';
import { ErrorState, JsonView, Loading, StatusBadge, TableWrap, Time, shortId } from '../components/ui.js';
import { useDocumentTitle, useFetch, type FetchState } from '../hooks.js';
import { Link, navigate, useLocation } from '../router.js';
import { useRunEvents, useSession } from '../session.js';
import { ISOLATION_LABEL } from './OrganizationsPage.js';

export function OrgDetailPage({ name }: { name: string }) {
  const session = useSession();
  const location = useLocation();
  const org = useFetch<Organization>(orgPath(name));
  const runs = useFetch<Page<Run>>(`/api/v1/runs${query({ org: name, limit: 20 })}`);
  const audit = useFetch<Page<AuditEntry>>(`/api/v1/audit${query({ org: name, limit: 20 })}`);
  const [removeOpen, setRemoveOpen] = useState(false);
  useDocumentTitle(`${org.data?.displayName ?? name} · Organizations`);

  // Back from "Sign in again to remove": reopen the dialog, and drop ?remove=1 so a reload does not.
  const wantsRemove = location.search.get('remove') === '1';
  useEffect(() => {
    if (!wantsRemove) return;
    if (session.isAdmin) setRemoveOpen(true);
    navigate(`/organizations/${encodeURIComponent(name)}`, { replace: true });
  }, [wantsRemove, session.isAdmin, name]);

  // Any change of this organization's runs: re-read it (status, Auth0 ids, spec) and its history, debounced.
  const reloadTimer = useRef<number | undefined>(undefined);
  const { reload: reloadOrg } = org;
  const { reload: reloadRuns } = runs;
  const { reload: reloadAudit } = audit;
  const reloadAll = (): void => {
    window.clearTimeout(reloadTimer.current);
    reloadTimer.current = window.setTimeout(() => {
      reloadOrg();
      reloadRuns();
      reloadAudit();
    }, 300);
  };
  useEffect(() => () => window.clearTimeout(reloadTimer.current), []);
  useRunEvents((run) => {
    if (run.orgName === name) reloadAll();
  });

  if (org.error && !org.data) {
    if (org.error instanceof ApiError && org.error.code === 'org.not_found') {
      return (
        <>
          <h1>Organization not found</h1>
          <p>
            There is no organization named <code>{name}</code>.
          </p>
          <p>
            <Link to="/organizations">Back to organizations</Link>
          </p>
        </>
      );
    }
    return <ErrorState title="The organization could not be loaded" error={org.error} onRetry={org.reload} />;
  }
  if (!org.data) return <Loading label="Loading the organization…" />;

  const data = org.data;
  const gone = data.status === 'removing' || data.status === 'removed';
  const runId = data.currentRun?.id ?? data.lastRunId;

  return (
    <>
      <p className="breadcrumb">
        <Link to="/organizations">Organizations</Link> <span aria-hidden="true">›</span> {data.name}
      </p>
      <div className="page-header">
        <div>
          <h1>{data.displayName ?? data.name}</h1>
          <p className="subtitle">
            <code>{data.name}</code> <StatusBadge status={data.status} />
          </p>
        </div>
        <div className="actions">
          {session.isOperator && (
            <button
              type="button"
              disabled={gone}
              onClick={() => navigate(`/organizations/${encodeURIComponent(data.name)}/edit`)}
            >
              Edit
            </button>
          )}
          {session.isAdmin && (
            <button
              type="button"
              className="button-danger"
              disabled={gone}
              onClick={() => setRemoveOpen(true)}
            >
              Remove
            </button>
          )}
        </div>
      </div>

      <DeployedStateNote subject="This page" />

      <dl className="facts">
        <div>
          <dt>Isolation</dt>
          <dd>{ISOLATION_LABEL[data.isolation]}</dd>
        </div>
        <div>
          <dt>Tenant</dt>
          <dd>{data.tenant}</dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>
            <Time value={data.createdAt} />
          </dd>
        </div>
        <div>
          <dt>Updated</dt>
          <dd>
            <Time value={data.updatedAt} />
          </dd>
        </div>
      </dl>

      {data.error && (
        <div className="callout callout-error">
          <p className="callout-title">Last error</p>
          <p>{data.error}</p>
        </div>
      )}

      <section aria-labelledby="current-run">
        <h2 id="current-run">Current run</h2>
        {runId ? (
          <CurrentRun key={runId} runId={runId} onFinished={reloadAll} />
        ) : (
          <p className="muted">No run yet.</p>
        )}
      </section>

      <section aria-labelledby="auth0-objects">
        <h2 id="auth0-objects">Auth0 objects</h2>
        <Auth0Objects ids={data.auth0Ids} />
      </section>

      <section aria-labelledby="app-data">
        <h2 id="app-data">Application data</h2>
        <AppData appData={data.appData} />
        <p>
          <Link to={`/events${query({ org: data.name })}`}>Events of this organization</Link>
        </p>
      </section>

      <section aria-labelledby="spec">
        <h2 id="spec">Spec</h2>
        {data.appliedSpec && JSON.stringify(data.appliedSpec) !== JSON.stringify(data.spec) && (
          <p className="hint">
            The spec differs from the last applied one: a run has not finished, or it failed.
          </p>
        )}
        <JsonView value={data.spec} label="Organization spec (JSON)" />
      </section>

      <section aria-labelledby="run-history">
        <h2 id="run-history">Run history</h2>
        <RunHistory runs={runs} orgName={name} />
      </section>

      <section aria-labelledby="audit-trail">
        <h2 id="audit-trail">Audit trail</h2>
        <AuditTrail audit={audit} orgName={name} />
      </section>

      {removeOpen && (
        <RemoveDialog
          name={data.name}
          onClose={() => setRemoveOpen(false)}
          onRemoved={() => {
            setRemoveOpen(false);
            reloadOrg();
            reloadRuns();
            reloadAudit();
          }}
        />
      )}
    </>
  );
}

function CurrentRun({ runId, onFinished }: { runId: string; onFinished: () => void }) {
  const wasLive = useRef(false);
  const stream = useRunStream(runId, (run) => {
    const finished = run.state === 'succeeded' || run.state === 'failed';
    if (!finished) wasLive.current = true;
    else if (wasLive.current) {
      wasLive.current = false;
      onFinished();
    }
  });
  if (stream.error) return <p className="error-text">{stream.error}</p>;
  if (!stream.run) return <Loading label="Loading the run…" />;
  return <RunTimeline run={stream.run} live={stream.live} />;
}

function Auth0Objects({ ids }: { ids: Record<string, string> }) {
  const entries = Object.entries(ids);
  if (entries.length === 0) return <p className="muted">Nothing has been created in Auth0 yet.</p>;
  return (
    <TableWrap label="Auth0 objects table">
      <table>
        <thead>
          <tr>
            <th scope="col">Object</th>
            <th scope="col">Auth0 ID</th>
          </tr>
        </thead>
        <tbody>
          {entries.map(([key, id]) => (
            <tr key={key}>
              <td>
                <code>{key}</code>
              </td>
              <td>
                <code>{id}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}

/** An absolute http(s) URL, which is shown as a link; anything else stays text. */
function isWebUrl(value: string): boolean {
  if (!/^https?:\/\//i.test(value)) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** One value a hook returned: a web address as a link (leaving the portal), everything else as text, never as HTML. */
function AppDataValue({ value }: { value: unknown }) {
  if (typeof value === 'string') {
    if (isWebUrl(value)) {
      return (
        <a href={value} target="_blank" rel="noopener noreferrer">
          {value}
          <span className="visually-hidden"> (opens in a new tab)</span>
        </a>
      );
    }
    return <>{value}</>;
  }
  return <code>{JSON.stringify(value)}</code>;
}

/** What the application's hooks returned for the organization (`appData`), one table per hook. */
function AppData({ appData }: { appData: Organization['appData'] | undefined }) {
  const hooks = Object.entries(appData ?? {});
  if (hooks.length === 0) {
    return <p className="muted">The application&apos;s hooks have returned no data for this organization.</p>;
  }
  return (
    <>
      {hooks.map(([hook, values]) => {
        const entries = Object.entries(values);
        return (
          <div key={hook} className="app-data">
            <h3>
              From hook <code>{hook}</code>
            </h3>
            {entries.length === 0 ? (
              <p className="muted">An empty object.</p>
            ) : (
              <TableWrap label={`Application data from ${hook}`}>
                <table>
                  <caption className="visually-hidden">Application data from hook {hook}</caption>
                  <thead>
                    <tr>
                      <th scope="col">Key</th>
                      <th scope="col">Value</th>
                    </tr>
                  </thead>
                  <tbody>
                    {entries.map(([key, value]) => (
                      <tr key={key}>
                        <td>
                          <code>{key}</code>
                        </td>
                        <td className="cell-value">
                          <AppDataValue value={value} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableWrap>
            )}
          </div>
        );
      })}
    </>
  );
}

function RunHistory({ runs, orgName }: { runs: FetchState<Page<Run>>; orgName: string }) {
  if (runs.error && !runs.data)
    return <ErrorState title="The runs could not be loaded" error={runs.error} onRetry={runs.reload} />;
  if (!runs.data) return <Loading label="Loading runs…" />;
  if (runs.data.items.length === 0) return <p className="muted">No runs yet.</p>;
  return (
    <>
      <RunsTable runs={runs.data.items} label="Run history table" />
      {runs.data.nextCursor && (
        <p>
          <Link to={`/runs${query({ org: orgName })}`}>All runs of this organization</Link>
        </p>
      )}
    </>
  );
}

function AuditTrail({ audit, orgName }: { audit: FetchState<Page<AuditEntry>>; orgName: string }) {
  if (audit.error && !audit.data) {
    return (
      <ErrorState title="The audit trail could not be loaded" error={audit.error} onRetry={audit.reload} />
    );
  }
  if (!audit.data) return <Loading label="Loading the audit trail…" />;
  if (audit.data.items.length === 0) return <p className="muted">No audit entries yet.</p>;
  return (
    <>
      <ul className="audit-list">
        {audit.data.items.map((entry) => (
          <li key={entry.id}>
            <Time value={entry.at} /> <strong>{entry.action}</strong> by {entry.actor}
            {entry.runId && (
              <>
                {' '}
                (run <Link to={`/runs/${encodeURIComponent(entry.runId)}`}>{shortId(entry.runId)}</Link>)
              </>
            )}
          </li>
        ))}
      </ul>
      <p>
        <Link to={`/audit${query({ org: orgName })}`}>Full audit log of this organization</Link>
      </p>
    </>
  );
}

function RemoveDialog({
  name,
  onClose,
  onRemoved,
}: {
  name: string;
  onClose: () => void;
  onRemoved: () => void;
}) {
  const session = useSession();
  const { gitops } = session;
  const plan = useFetch<RemovalPlan>(`${orgPath(name)}/removal-plan`);
  const [reason, setReason] = useState('');
  const [committed, setCommitted] = useState<Committed | null>(null);
  const [confirmation, setConfirmation] = useState('');
  const [needsReauth, setNeedsReauth] = useState(() => !session.recentlyAuthenticated());
  const [submitting, setSubmitting] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function remove(): Promise<void> {
    setSubmitting(true);
    setError(null);
    try {
      const result = await api.delete<{ run: Run } | Committed>(
        `${orgPath(name)}${gitops ? query(reasonBody(reason)) : ''}`,
      );
      // GitOps mode answers with the commit: nothing is removed until it is deployed.
      if ('commit' in result) setCommitted(result);
      else onRemoved();
    } catch (failure) {
      if (failure instanceof ApiError && failure.code === 'auth.reauthentication_required')
        setNeedsReauth(true);
      else setError(failure instanceof Error ? failure.message : 'The organization could not be removed.');
      setSubmitting(false);
    }
  }

  return (
    <Modal title={`Remove organization ${name}`} onClose={onClose}>
      {committed ? (
        <CommittedNotice committed={committed}>
          <button type="button" className="button-small" onClick={onClose}>
            Close
          </button>
        </CommittedNotice>
      ) : needsReauth ? (
        <FreshSignInNeeded
          action="remove"
          returnTo={`/organizations/${encodeURIComponent(name)}?remove=1`}
          onClose={onClose}
        >
          Removing an organization needs a recent sign-in. Sign in again, then confirm the removal here.
        </FreshSignInNeeded>
      ) : (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            if (confirmation === name && !submitting) void remove();
          }}
        >
          {plan.error ? (
            <ErrorState
              title="The removal plan could not be loaded"
              error={plan.error}
              onRetry={plan.reload}
            />
          ) : !plan.data ? (
            <Loading label="Loading what will be removed…" />
          ) : (
            <>
              <p className="dialog-subtitle">
                {gitops ? 'Once deployed, this will delete:' : 'This will delete:'}
              </p>
              {plan.data.steps.length === 0 ? (
                <p className="muted">Nothing in Auth0.</p>
              ) : (
                <ul className="plan-steps" aria-label="Will be deleted">
                  {plan.data.steps.map((step) => (
                    <li key={step.key}>{step.description}</li>
                  ))}
                </ul>
              )}
              <p className="dialog-subtitle">This will be kept:</p>
              {plan.data.kept.length === 0 ? (
                <p className="muted">Nothing.</p>
              ) : (
                <ul className="plan-steps" aria-label="Will be kept">
                  {plan.data.kept.map((item) => (
                    <li key={item}>{item}</li>
                  ))}
                </ul>
              )}
            </>
          )}
          <TypedConfirmation
            label="Type the organization name to confirm"
            expected={name}
            value={confirmation}
            onChange={setConfirmation}
            note={gitops ? 'A rollback can bring it back, with new Auth0 ids.' : 'This cannot be undone.'}
          />
          {gitops && <ReasonField value={reason} onChange={setReason} />}
          {error && (
            <p className="error-text" role="alert">
              {error}
            </p>
          )}
          <div className="dialog-actions">
            <button
              type="submit"
              className="button-danger"
              disabled={confirmation !== name || submitting || !plan.data}
            >
              {gitops
                ? submitting
                  ? 'Committing…'
                  : 'Commit removal'
                : submitting
                  ? 'Removing…'
                  : 'Remove organization'}
            </button>
            <button type="button" onClick={onClose}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </Modal>
  );
}
