/**
 * `/history` (GitOps mode): the organization repository's commits, newest first, with the environments each one is
 * deployed to, and the deployments of every environment with the run of each organization they changed. Operators
 * deploy this portal's environment: the plan first (a dry run, nothing written), then the deployment, which runs in
 * the server; the page re-reads the history while one is running. Admins roll back to an earlier commit: its plan,
 * the organizations it recreates (new Auth0 ids), a typed confirmation, then a restore commit and its deployment.
 * `?plan=1` shows the deploy plan at once; `?rollback=<sha>` reopens the rollback dialog after the fresh sign-in a
 * rollback needs.
 */
import { useEffect, useRef, useState } from 'react';

import {
  ApiError,
  request,
  type Deployment,
  type DeployPlan,
  type GitopsHistory,
  type HistoryCommit,
} from '../api.js';
import {
  ReasonField,
  changeCount,
  isDeploymentRecord,
  reasonBody,
  shortSha,
  undeployed,
} from '../components/GitOps.js';
import { FreshSignInNeeded, TypedConfirmation } from '../components/Confirm.js';
import { Modal } from '../components/Modal.js';
import { EmptyState, ErrorState, Loading, RunStateBadge, TableWrap, Time } from '../components/ui.js';
import { useDocumentTitle, useFetch } from '../hooks.js';
import { Link, navigate, useLocation } from '../router.js';
import { useRunEvents, useSession, type Session } from '../session.js';
import { PlanSteps } from '../spec-form/review.js';

type GitopsSettings = NonNullable<Session['gitops']>;

const HISTORY_LIMIT = 50;
/** How often the history is re-read while a deployment runs (its record changes send no event of their own). */
const POLL_MS = 2000;
/** Run changes of a deployment re-read the history at most this often. */
const THROTTLE_MS = 500;

const DEPLOY_URL = '/api/v1/gitops/deploy';
const ROLLBACK_URL = '/api/v1/gitops/rollback';

export function HistoryPage({ gitops }: { gitops: GitopsSettings }) {
  useDocumentTitle('History');
  const session = useSession();
  const location = useLocation();
  const history = useFetch<GitopsHistory>(`/api/v1/gitops/history?limit=${HISTORY_LIMIT}`);
  const { reload } = history;
  const data = history.data;
  const running = data?.deployments.some((deployment) => deployment.state === 'running') ?? false;
  const [rollbackTo, setRollbackTo] = useState<{ sha: string; subject: string | null } | null>(null);
  /** The deployment started from this page, followed until it ends. */
  const [followed, setFollowed] = useState<{ id: string; label: string } | null>(null);

  // Back from "Sign in again to roll back": reopen the dialog, and drop the parameter so a reload does not.
  const wantsRollback = location.search.get('rollback');
  useEffect(() => {
    if (!wantsRollback) return;
    if (session.isAdmin) setRollbackTo({ sha: wantsRollback, subject: null });
    navigate('/history', { replace: true });
  }, [wantsRollback, session.isAdmin]);

  useEffect(() => {
    if (!running) return;
    const timer = window.setInterval(reload, POLL_MS);
    return () => window.clearInterval(timer);
  }, [running, reload]);
  const throttle = useRef<number | undefined>(undefined);
  useEffect(() => () => window.clearTimeout(throttle.current), []);
  useRunEvents(() => {
    if (!running || throttle.current !== undefined) return;
    throttle.current = window.setTimeout(() => {
      throttle.current = undefined;
      reload();
    }, THROTTLE_MS);
  });

  function started(deployment: Deployment, label: string): void {
    setFollowed({ id: deployment.id, label });
    reload();
  }

  const followedDeployment = followed && data?.deployments.find((item) => item.id === followed.id);

  return (
    <>
      <h1>History</h1>
      <p className="subtitle history-subtitle">
        Repository <code>{gitops.repository}</code> (branch <code>{gitops.branch}</code>); this portal deploys
        to environment <strong>{gitops.env}</strong>.
      </p>

      {history.error && !data ? (
        <ErrorState title="The history could not be loaded" error={history.error} onRetry={reload} />
      ) : !data ? (
        <Loading label="Loading the history…" />
      ) : (
        <>
          {followed && (
            <FollowedDeployment
              key={followed.id}
              label={followed.label}
              deployment={followedDeployment ?? null}
              onDismiss={() => setFollowed(null)}
            />
          )}
          <DeploySection
            gitops={gitops}
            history={data}
            running={running}
            onStarted={(deployment) => started(deployment, 'Deployment')}
          />
          <CommitsSection
            env={gitops.env}
            commits={data.commits}
            onRollback={(commit) => setRollbackTo({ sha: commit.sha, subject: commit.subject })}
          />
          <DeploymentsSection deployments={data.deployments} />
        </>
      )}

      {rollbackTo && (
        <RollbackDialog
          target={rollbackTo}
          env={gitops.env}
          onClose={() => setRollbackTo(null)}
          onStarted={(deployment) => {
            setRollbackTo(null);
            started(deployment, `Rollback to ${shortSha(rollbackTo.sha)}`);
          }}
        />
      )}
    </>
  );
}

/** Where the deployment started here stands; focused when it appears, so keyboard and screen reader users follow. */
function FollowedDeployment({
  label,
  deployment,
  onDismiss,
}: {
  label: string;
  deployment: Deployment | null;
  onDismiss: () => void;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => ref.current?.focus(), []);
  const state = deployment?.state ?? 'running';
  const tone =
    state === 'succeeded' ? 'callout-success' : state === 'failed' ? 'callout-error' : 'callout-warning';
  return (
    <div ref={ref} tabIndex={-1} className={`callout ${tone} followed-deployment`} role="status">
      <p className="callout-title">
        {label} {state === 'running' ? 'is running' : state}
        {deployment ? (
          <>
            {' '}
            (<code>{shortSha(deployment.toRevision)}</code> to {deployment.env})
          </>
        ) : null}
      </p>
      {deployment?.summary && <p>{deployment.summary}</p>}
      {state === 'running' && <p>This page updates by itself until it ends.</p>}
      {state !== 'running' && (
        <div className="actions">
          <Link to="/organizations">Open the organizations</Link>
          <button type="button" className="button-small" onClick={onDismiss}>
            Dismiss
          </button>
        </div>
      )}
    </div>
  );
}

function DeploySection({
  gitops,
  history,
  running,
  onStarted,
}: {
  gitops: GitopsSettings;
  history: GitopsHistory;
  running: boolean;
  onStarted: (deployment: Deployment) => void;
}) {
  const session = useSession();
  const location = useLocation();
  const { env } = gitops;
  const pending = undeployed(history, env, HISTORY_LIMIT);
  const head = history.commits[0];
  const latest = history.deployments.find((deployment) => deployment.env === env);
  const lastGood = history.deployments.find(
    (deployment) => deployment.env === env && deployment.state === 'succeeded',
  );
  const deployedCommit = pending.deployed;

  const [plan, setPlan] = useState<DeployPlan | null>(null);
  const [busy, setBusy] = useState<'planning' | 'deploying' | null>(null);
  const [error, setError] = useState<{ title: string; error: Error } | null>(null);
  const planHeading = useRef<HTMLHeadingElement>(null);
  // A dry run holds the environment's deploy lock on the server until it ends, even when the browser gives up on
  // it: a second one meanwhile would be refused (deploy.locked). So there is one at a time, and none is aborted.
  const planning = useRef(false);

  async function planDeploy(): Promise<void> {
    if (planning.current) return;
    planning.current = true;
    setBusy('planning');
    setError(null);
    setPlan(null);
    try {
      setPlan(await request<DeployPlan>('POST', DEPLOY_URL, { body: { dryRun: true } }));
    } catch (failure) {
      setError(failed('The deploy could not be planned', failure));
    }
    planning.current = false;
    setBusy(null);
  }

  async function deploy(planned: DeployPlan): Promise<void> {
    setBusy('deploying');
    setError(null);
    try {
      // Exactly the revision that was planned, even if someone committed since.
      const deployment = await request<Deployment>('POST', DEPLOY_URL, { body: { to: planned.toRevision } });
      setPlan(null);
      onStarted(deployment);
    } catch (failure) {
      setError(failed('The deployment could not be started', failure));
    }
    setBusy(null);
  }

  // "Deploy…" after a commit lands here with ?plan=1: show the plan at once (and not again on a reload).
  const wantsPlan = location.search.get('plan') === '1';
  const planOnArrival = useRef(planDeploy);
  useEffect(() => {
    planOnArrival.current = planDeploy;
  });
  useEffect(() => {
    if (!wantsPlan) return;
    navigate('/history', { replace: true });
    if (session.isOperator) void planOnArrival.current();
  }, [wantsPlan, session.isOperator]);

  useEffect(() => {
    if (plan) planHeading.current?.focus();
  }, [plan]);

  return (
    <section aria-labelledby="deploy-title">
      <h2 id="deploy-title">Deploy to {env}</h2>
      <dl className="facts">
        <div>
          <dt>Deployed to {env}</dt>
          <dd>
            {lastGood ? (
              <>
                <code>{shortSha(lastGood.toRevision)}</code>{' '}
                {deployedCommit?.subject ?? <span className="muted">(older than the commits shown)</span>}
              </>
            ) : (
              <span className="muted">nothing yet</span>
            )}
          </dd>
        </div>
        <div>
          <dt>Head of {gitops.branch}</dt>
          <dd>
            {head ? (
              <>
                <code>{shortSha(head.sha)}</code> {head.subject}
              </>
            ) : (
              <span className="muted">no commits yet</span>
            )}
          </dd>
        </div>
        <div>
          <dt>Not deployed</dt>
          <dd>{pending.changes.length === 0 && !pending.more ? 'nothing' : changeCount(pending)}</dd>
        </div>
        <div>
          <dt>Last deployment</dt>
          <dd>
            {latest ? (
              <>
                <RunStateBadge state={latest.state} /> <Time value={latest.finishedAt ?? latest.startedAt} />
              </>
            ) : (
              <span className="muted">none</span>
            )}
          </dd>
        </div>
      </dl>
      {running && (
        <p className="callout callout-warning">
          A deployment is running; a new one can start when it has finished. (One left running by a stopped
          process is finished by the next deployment.)
        </p>
      )}

      {session.isOperator && (
        <>
          {error && <ErrorState title={error.title} error={error.error} />}
          {plan ? (
            <div className="deploy-plan">
              <h3 ref={planHeading} tabIndex={-1}>
                Deploy plan
              </h3>
              <PlanView plan={plan} />
              <div className="form-actions">
                <button type="button" disabled={busy !== null} onClick={() => setPlan(null)}>
                  Discard the plan
                </button>
                <button
                  type="button"
                  className="button-primary"
                  disabled={busy !== null}
                  onClick={() => void deploy(plan)}
                >
                  {busy === 'deploying' ? 'Starting…' : `Deploy ${shortSha(plan.toRevision)} to ${plan.env}`}
                </button>
              </div>
            </div>
          ) : (
            <div className="actions">
              <button type="button" disabled={busy !== null} onClick={() => void planDeploy()}>
                {busy === 'planning' ? 'Planning…' : 'Plan deploy'}
              </button>
              <p className="hint">
                Shows what deploying the head to {env} would change, organization by organization; nothing is
                written until you deploy.
              </p>
            </div>
          )}
        </>
      )}
    </section>
  );
}

function failed(title: string, failure: unknown): { title: string; error: Error } {
  if (failure instanceof ApiError && failure.code === 'deploy.locked')
    return { title: 'Another deployment is running', error: failure };
  return { title, error: failure instanceof Error ? failure : new Error(String(failure)) };
}

/** A deploy's or a rollback's plan: the revisions, then each organization's steps. */
function PlanView({ plan }: { plan: DeployPlan }) {
  return (
    <>
      <p>
        From{' '}
        {plan.fromRevision ? (
          <code>{shortSha(plan.fromRevision)}</code>
        ) : (
          <span className="muted">nothing deployed</span>
        )}{' '}
        to <code>{shortSha(plan.toRevision)}</code> in <strong>{plan.env}</strong>:{' '}
        {plan.organizations.length === 1
          ? '1 organization changes.'
          : `${plan.organizations.length} organizations change.`}
      </p>
      {plan.organizations.length === 0 ? (
        <p className="muted">Nothing to do: no organization differs between these revisions.</p>
      ) : (
        <ul className="plan-orgs" aria-label="Organizations in the plan">
          {plan.organizations.map((org) => (
            <li key={org.name}>
              <p className="plan-org-name">
                <strong>{org.name}</strong>{' '}
                <span className="tag">{org.action === 'remove' ? 'removed' : 'applied'}</span>
              </p>
              {org.steps.length === 0 ? (
                <p className="muted">No steps: Auth0 already matches.</p>
              ) : (
                <PlanSteps steps={org.steps} label={`Steps for ${org.name}`} />
              )}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function CommitsSection({
  env,
  commits,
  onRollback,
}: {
  env: string;
  commits: HistoryCommit[];
  onRollback: (commit: HistoryCommit) => void;
}) {
  const session = useSession();
  const deployedIndex = commits.findIndex((commit) => commit.deployedTo.includes(env));
  return (
    <section aria-labelledby="commits-title">
      <h2 id="commits-title">Commits</h2>
      {commits.length === 0 ? (
        <EmptyState title="No commits yet">
          <p>Creating, editing or removing an organization makes the first one.</p>
        </EmptyState>
      ) : (
        <>
          <TableWrap label="Commits table">
            <table>
              <thead>
                <tr>
                  <th scope="col">Revision</th>
                  <th scope="col">Change</th>
                  <th scope="col">Author</th>
                  <th scope="col">Date</th>
                  <th scope="col">Deployed to</th>
                  {session.isAdmin && <th scope="col">Actions</th>}
                </tr>
              </thead>
              <tbody>
                {commits.map((commit, index) => {
                  const record = isDeploymentRecord(commit);
                  const waiting = !record && (deployedIndex === -1 || index < deployedIndex);
                  return (
                    <tr key={commit.sha}>
                      <td>
                        <code title={commit.sha}>{shortSha(commit.sha)}</code>
                      </td>
                      <td className="cell-commit">
                        <span className={record ? 'muted' : undefined}>{commit.subject}</span>
                        {record && <span className="tag">deployment record</span>}
                        {commit.body.trim() !== '' && (
                          <details className="commit-body">
                            <summary>
                              Message<span className="visually-hidden"> of {shortSha(commit.sha)}</span>
                            </summary>
                            <pre>{commit.body.trim()}</pre>
                          </details>
                        )}
                      </td>
                      <td>
                        {commit.author.name}
                        {commit.author.email !== commit.author.name && (
                          <span className="delivery-meta">{commit.author.email}</span>
                        )}
                      </td>
                      <td>
                        <Time value={commit.date} />
                      </td>
                      <td>
                        <span className="badges">
                          {commit.deployedTo.map((name) => (
                            <span key={name} className="badge badge-deployed">
                              <span aria-hidden="true">✓</span> {name}
                            </span>
                          ))}
                          {waiting && (
                            <span className="badge badge-run-pending">
                              <span aria-hidden="true">◌</span> not deployed to {env}
                            </span>
                          )}
                        </span>
                      </td>
                      {session.isAdmin && (
                        <td className="cell-actions">
                          {index > 0 && (
                            <button type="button" className="button-small" onClick={() => onRollback(commit)}>
                              Roll back to here…
                              <span className="visually-hidden"> ({shortSha(commit.sha)})</span>
                            </button>
                          )}
                        </td>
                      )}
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </TableWrap>
          {commits.length >= HISTORY_LIMIT && (
            <p className="hint">
              The {HISTORY_LIMIT} newest commits; <code>orgadmin history --limit N</code> lists older ones.
            </p>
          )}
        </>
      )}
    </section>
  );
}

function DeploymentsSection({ deployments }: { deployments: Deployment[] }) {
  return (
    <section aria-labelledby="deployments-title">
      <h2 id="deployments-title">Deployments</h2>
      {deployments.length === 0 ? (
        <EmptyState title="No deployments yet">
          <p>An operator deploys from this page, or a CI job runs orgadmin deploy.</p>
        </EmptyState>
      ) : (
        <TableWrap label="Deployments table">
          <table>
            <thead>
              <tr>
                <th scope="col">State</th>
                <th scope="col">Environment</th>
                <th scope="col">Revision</th>
                <th scope="col">Runs</th>
                <th scope="col">Summary</th>
                <th scope="col">Requested by</th>
                <th scope="col">Started</th>
                <th scope="col">Finished</th>
              </tr>
            </thead>
            <tbody>
              {deployments.map((deployment) => {
                const runs = Object.entries(deployment.runs);
                return (
                  <tr
                    key={deployment.id}
                    className={deployment.state === 'failed' ? 'row-failed' : undefined}
                  >
                    <td>
                      <RunStateBadge state={deployment.state} />
                    </td>
                    <td>{deployment.env}</td>
                    <td className="cell-revision">
                      {deployment.fromRevision ? (
                        <code>{shortSha(deployment.fromRevision)}</code>
                      ) : (
                        <span className="muted">nothing</span>
                      )}{' '}
                      <span aria-hidden="true">→</span>
                      <span className="visually-hidden">to</span>{' '}
                      <code>{shortSha(deployment.toRevision)}</code>
                    </td>
                    <td>
                      {runs.length === 0 ? (
                        <span className="muted">none</span>
                      ) : (
                        <ul className="names run-links">
                          {runs.map(([org, runId]) => (
                            <li key={org}>
                              <Link to={`/runs/${encodeURIComponent(runId)}`} aria-label={`Run of ${org}`}>
                                {org}
                              </Link>
                            </li>
                          ))}
                        </ul>
                      )}
                    </td>
                    <td className="cell-summary">{deployment.summary ?? ''}</td>
                    <td>{deployment.requestedBy}</td>
                    <td>
                      <Time value={deployment.startedAt} />
                    </td>
                    <td>
                      <Time value={deployment.finishedAt} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </TableWrap>
      )}
    </section>
  );
}

/**
 * "Roll back to here…": the plan of deploying the target's organizations (from what is deployed now), the ones
 * that come back with new Auth0 ids, a reason, and the short revision typed to confirm. The server needs a fresh
 * sign-in for the plan as for the rollback itself.
 */
function RollbackDialog({
  target,
  env,
  onClose,
  onStarted,
}: {
  target: { sha: string; subject: string | null };
  env: string;
  onClose: () => void;
  onStarted: (deployment: Deployment) => void;
}) {
  const session = useSession();
  const short = shortSha(target.sha);
  const [needsReauth, setNeedsReauth] = useState(() => !session.recentlyAuthenticated());
  const [plan, setPlan] = useState<DeployPlan | null>(null);
  const [planError, setPlanError] = useState<Error | null>(null);
  const [attempt, setAttempt] = useState(0);
  const [reason, setReason] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [submitting, setSubmitting] = useState(false);
  const [error, setError] = useState<string | null>(null);

  // Once per attempt, never aborted: the dry run holds the deploy lock on the server until it ends, so a second one
  // (React may run an effect twice) would be refused with deploy.locked.
  const requested = useRef<string | null>(null);
  useEffect(() => {
    const key = `${target.sha} ${attempt}`;
    if (needsReauth || requested.current === key) return;
    requested.current = key;
    setPlan(null);
    setPlanError(null);
    request<DeployPlan>('POST', ROLLBACK_URL, { body: { to: target.sha, dryRun: true } }).then(
      setPlan,
      (failure: unknown) => {
        if (failure instanceof ApiError && failure.code === 'auth.reauthentication_required')
          setNeedsReauth(true);
        else
          setPlanError(failure instanceof Error ? failure : new Error('The rollback could not be planned.'));
      },
    );
  }, [needsReauth, target.sha, attempt]);

  async function rollBack(): Promise<void> {
    setSubmitting(true);
    setError(null);
    try {
      onStarted(
        await request<Deployment>('POST', ROLLBACK_URL, { body: { to: target.sha, ...reasonBody(reason) } }),
      );
    } catch (failure) {
      if (failure instanceof ApiError && failure.code === 'auth.reauthentication_required')
        setNeedsReauth(true);
      else setError(failure instanceof Error ? failure.message : 'The rollback could not be started.');
      setSubmitting(false);
    }
  }

  const recreated = plan?.recreated ?? [];
  return (
    <Modal title={`Roll back to ${short}`} onClose={onClose}>
      {needsReauth ? (
        <FreshSignInNeeded
          action="roll back"
          returnTo={`/history?rollback=${encodeURIComponent(target.sha)}`}
          onClose={onClose}
        >
          Rolling back needs a recent sign-in. Sign in again, then confirm the rollback here.
        </FreshSignInNeeded>
      ) : (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            if (confirmation === short && plan && !submitting) void rollBack();
          }}
        >
          <p>
            This commits a restore of every organization&apos;s files to <code>{short}</code>
            {target.subject ? <> ({target.subject})</> : null} and deploys it to <strong>{env}</strong>:
            organizations created since are removed, changed ones restored, removed ones recreated.
          </p>
          {planError ? (
            <ErrorState
              title="The rollback could not be planned"
              error={planError}
              onRetry={() => setAttempt((n) => n + 1)}
            />
          ) : !plan ? (
            <Loading label="Planning the rollback…" />
          ) : (
            <>
              {recreated.length > 0 && (
                <div className="callout callout-warning" role="alert">
                  <p className="callout-title">Recreated with new Auth0 ids: {recreated.join(', ')}</p>
                  <p>
                    Their Auth0 organization and connections are created again and get new ids; their members
                    and invitations are not restored.
                  </p>
                </div>
              )}
              <PlanView plan={plan} />
            </>
          )}
          <ReasonField value={reason} onChange={setReason} />
          <TypedConfirmation
            label="Type the revision to confirm"
            expected={short}
            value={confirmation}
            onChange={(value) => setConfirmation(value.trim())}
          />
          {error && (
            <p className="error-text" role="alert">
              {error}
            </p>
          )}
          <div className="dialog-actions">
            <button
              type="submit"
              className="button-danger"
              disabled={confirmation !== short || submitting || !plan}
            >
              {submitting ? 'Rolling back…' : 'Roll back'}
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
