/**
 * `/organizations/:name/edit`: the spec in the wizard's sections on one page, prefilled. "Review changes" asks the
 * server for the update plan (nothing is written) and shows what changes — field by field, before → after — and the
 * steps; "Apply changes" starts the run and opens the organization's page.
 *
 * In GitOps mode the review also takes a reason for the commit message, "Commit changes" commits the spec, and the
 * page then shows the commit and the way to deploy it. The form starts from the deployed spec (the only one the API
 * serves), so the page warns when committed changes are waiting for a deploy.
 *
 * Secrets: the server shows a set secret as "(set)". The form leaves the field blank and, when it stays blank, sends
 * "(set)" back unchanged, which the server reads as "keep the current secret" (see spec-form/model.ts).
 */
import { useEffect, useRef, useState } from 'react';

import {
  ApiError,
  orgPath,
  request,
  type Catalog,
  type Committed,
  type Organization,
  type Plan,
  type Run,
} from '../api.js';
import {
  CommittedNotice,
  ReasonField,
  changeCount,
  reasonBody,
  usePendingChanges,
} from '../components/GitOps.js';
import { ErrorState, Loading } from '../components/ui.js';
import { useDocumentTitle, useFetch } from '../hooks.js';
import { Link, navigate } from '../router.js';
import { useSession } from '../session.js';
import { IssueSummary, IssuesContext } from '../spec-form/fields.js';
import { KIND_LABEL, formFromSpec } from '../spec-form/model.js';
import { DiffTable, PlanSteps, WithSpecPreview, diffSpecs, type DiffRow } from '../spec-form/review.js';
import {
  AdminSection,
  ApplicationsSection,
  BasicsSection,
  ConnectionsSection,
} from '../spec-form/sections.js';
import { useSpecForm } from '../spec-form/use-spec-form.js';

export function OrgEditPage({ name }: { name: string }) {
  useDocumentTitle(`Edit ${name}`);
  const org = useFetch<Organization>(orgPath(name));
  if (org.error && !org.data) {
    return <ErrorState title="The organization could not be loaded" error={org.error} onRetry={org.reload} />;
  }
  if (!org.data) return <Loading label="Loading the organization…" />;
  if (org.data.status === 'removing' || org.data.status === 'removed') {
    return (
      <>
        <h1>Edit {org.data.displayName ?? name}</h1>
        <p>This organization is {org.data.status}; it can no longer be edited.</p>
        <p>
          <Link to={`/organizations/${encodeURIComponent(name)}`}>Back to the organization</Link>
        </p>
      </>
    );
  }
  return <SpecEditor org={org.data} />;
}

function SpecEditor({ org }: { org: Organization }) {
  const { gitops } = useSession();
  const [reason, setReason] = useState('');
  const [committed, setCommitted] = useState<Committed | null>(null);
  const catalog = useFetch<Catalog>('/api/v1/catalog');
  const sf = useSpecForm(() => formFromSpec(org.spec));
  const [plan, setPlan] = useState<Plan | null>(null);
  const [busy, setBusy] = useState<'planning' | 'applying' | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [submitted, setSubmitted] = useState(false);
  const summaryRef = useRef<HTMLDivElement>(null);
  const reviewRef = useRef<HTMLHeadingElement>(null);
  const orgUrl = `/organizations/${encodeURIComponent(org.name)}`;

  // Focus moves to the issue summary or to the review once they are on screen (after React's commit).
  const [focusRequest, setFocusRequest] = useState<{ target: 'summary' | 'review' | 'committed' } | null>(
    null,
  );
  const requestFocus = (target: 'summary' | 'review' | 'committed'): void => setFocusRequest({ target });
  const committedRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (focusRequest?.target === 'summary') summaryRef.current?.focus();
    if (focusRequest?.target === 'review') reviewRef.current?.focus();
    if (focusRequest?.target === 'committed') committedRef.current?.focus();
  }, [focusRequest]);

  function handleFailure(failure: unknown, spec: unknown): void {
    if (failure instanceof ApiError && failure.code === 'spec.invalid') {
      sf.setServerIssues(failure.issues, spec);
      setPlan(null);
    }
    setError(failure instanceof Error ? failure : new Error('The request failed.'));
    requestFocus('summary');
  }

  async function review(): Promise<void> {
    sf.reveal('all');
    setSubmitted(true);
    setError(null);
    if (sf.clientIssues.length > 0) {
      requestFocus('summary');
      return;
    }
    const spec = sf.spec;
    setBusy('planning');
    try {
      const result = await request<Plan>('POST', `${orgPath(org.name)}/plan`, { body: { spec } });
      setPlan(result);
      requestFocus('review');
    } catch (failure) {
      handleFailure(failure, spec);
    } finally {
      setBusy(null);
    }
  }

  async function apply(): Promise<void> {
    const spec = sf.spec;
    setBusy('applying');
    setError(null);
    try {
      const result = await request<{ organization: Organization; run: Run } | Committed>(
        'PUT',
        orgPath(org.name),
        { body: gitops ? { spec, ...reasonBody(reason) } : { spec } },
      );
      // GitOps mode answers with the commit; the organization's page changes only once it is deployed.
      if ('commit' in result) {
        setCommitted(result);
        setBusy(null);
        requestFocus('committed');
      } else navigate(orgUrl);
    } catch (failure) {
      handleFailure(failure, spec);
      setBusy(null);
    }
  }

  const issues = submitted ? sf.visibleIssues : [];
  const errorTitle =
    error instanceof ApiError && error.code === 'run.conflict'
      ? 'Another run of this organization is not finished'
      : 'The changes could not be reviewed or applied';

  return (
    <IssuesContext value={sf.lookup}>
      <p className="breadcrumb">
        <Link to="/organizations">Organizations</Link> <span aria-hidden="true">›</span>{' '}
        <Link to={orgUrl}>{org.name}</Link> <span aria-hidden="true">›</span> Edit
      </p>
      <h1>Edit {org.displayName ?? org.name}</h1>
      {gitops && !committed && <GitopsEditNote name={org.name} env={gitops.env} />}
      {org.currentRun && !gitops && (
        <p className="callout callout-warning">
          A run of this organization is {org.currentRun.state}: changes can be applied when it has finished.
        </p>
      )}
      <IssueSummary issues={issues} title={`Fix these first (${issues.length}):`} summaryRef={summaryRef} />
      {error && !(error instanceof ApiError && error.code === 'spec.invalid') && (
        <ErrorState title={errorTitle} error={error} />
      )}

      {committed ? (
        <section aria-labelledby="committed-title">
          <h2 id="committed-title" ref={committedRef} tabIndex={-1}>
            Changes committed
          </h2>
          <CommittedNotice committed={committed}>
            <Link to={orgUrl}>Back to the organization</Link>
          </CommittedNotice>
        </section>
      ) : plan ? (
        <section className="review" aria-labelledby="review-title">
          <h2 id="review-title" ref={reviewRef} tabIndex={-1}>
            Review changes
          </h2>
          <h3>Changed fields</h3>
          <DiffTable rows={withSecretChanges(diffSpecs(plan.before, plan.after), sf.form.connections)} />
          <h3>{gitops ? 'Once deployed, this will run:' : 'This will run:'}</h3>
          {plan.steps.length === 0 ? (
            <p className="muted">No steps: Auth0 already matches this spec.</p>
          ) : (
            <PlanSteps steps={plan.steps} label="Steps to be executed" />
          )}
          {gitops && <ReasonField value={reason} onChange={setReason} />}
          <div className="form-actions">
            <button type="button" onClick={() => setPlan(null)}>
              Back to editing
            </button>
            <button
              type="button"
              className="button-primary"
              disabled={busy !== null}
              onClick={() => void apply()}
            >
              {gitops
                ? busy === 'applying'
                  ? 'Committing…'
                  : 'Commit changes'
                : busy === 'applying'
                  ? 'Applying…'
                  : 'Apply changes'}
            </button>
          </div>
        </section>
      ) : (
        <WithSpecPreview spec={sf.spec}>
          <form
            noValidate
            onSubmit={(event) => {
              event.preventDefault();
              if (busy === null) void review();
            }}
          >
            <section className="form-section" aria-labelledby="edit-basics">
              <h2 id="edit-basics">Basics</h2>
              <BasicsSection form={sf.form} setForm={sf.setForm} mode="edit" />
            </section>
            <section className="form-section" aria-labelledby="edit-connections">
              <h2 id="edit-connections">Connections</h2>
              <ConnectionsSection form={sf.form} setForm={sf.setForm} catalog={catalog} />
            </section>
            <section className="form-section" aria-labelledby="edit-applications">
              <h2 id="edit-applications">Applications</h2>
              <ApplicationsSection form={sf.form} setForm={sf.setForm} catalog={catalog} />
            </section>
            <section className="form-section" aria-labelledby="edit-admin">
              <h2 id="edit-admin">Administrator</h2>
              <AdminSection form={sf.form} setForm={sf.setForm} />
            </section>
            <div className="form-actions">
              <button type="button" onClick={() => navigate(orgUrl)}>
                Cancel
              </button>
              <button type="submit" className="button-primary" disabled={busy !== null}>
                {busy === 'planning' ? 'Reviewing…' : 'Review changes'}
              </button>
            </div>
          </form>
        </WithSpecPreview>
      )}
    </IssuesContext>
  );
}

/** The spec being edited is the deployed one: committed changes not deployed yet would be replaced by it. */
function GitopsEditNote({ name, env }: { name: string; env: string }) {
  const pending = usePendingChanges();
  if (pending && pending.changes.length > 0)
    return (
      <div className="callout callout-warning">
        <p className="callout-title">
          {changeCount(pending)} not deployed to {env} yet
        </p>
        <p>
          This form starts from the spec deployed to {env}. If one of those commits changed {name}, committing
          this form replaces that change. <Link to="/history">Deploy them first</Link> to start from them.
        </p>
      </div>
    );
  return (
    <p className="hint">
      GitOps mode: committing replaces the repository&apos;s spec of {name} with this one; Auth0 changes when
      the commit is deployed to {env}.
    </p>
  );
}

/** A new secret is not visible in the (redacted) plan; say that it will be replaced. */
function withSecretChanges(
  rows: DiffRow[],
  connections: ReturnType<typeof formFromSpec>['connections'],
): DiffRow[] {
  const out = rows.filter((row) => !row.field.endsWith('.clientSecret'));
  for (const entry of connections) {
    if ('clientSecret' in entry && entry.clientSecret !== '') {
      out.push({
        field: `connections[${entry.kind}].clientSecret`,
        before: entry.secretSet ? '(set)' : undefined,
        after: `(new ${KIND_LABEL[entry.kind]} secret)`,
      });
    }
  }
  return out;
}
