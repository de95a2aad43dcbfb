/**
 * `/organizations/new`: the create wizard — Basics, Connections, Applications, Administrator, Review. Each step is
 * checked with the server's schema before "Next"; Review asks the server for the plan (nothing is written) and lists
 * exactly the steps the run will execute; "Create organization" starts the run and opens the organization's page,
 * where its timeline is live. In GitOps mode Review also takes a reason for the commit message, "Commit
 * organization" commits the spec, and the page then shows the commit and the way to deploy it.
 */
import { useEffect, useRef, useState } from 'react';

import {
  ApiError,
  isAbort,
  request,
  type Catalog,
  type Committed,
  type Organization,
  type Plan,
  type Run,
  type SpecIssue,
} from '../api.js';
import { CommittedNotice, ReasonField, reasonBody } from '../components/GitOps.js';
import { ErrorState, Loading } from '../components/ui.js';
import { useDocumentTitle, useFetch } from '../hooks.js';
import { Link, navigate } from '../router.js';
import { useSession } from '../session.js';
import { IssueSummary, IssuesContext, focusField } from '../spec-form/fields.js';
import { WIZARD_STEPS, emptyForm, stepOfPath } from '../spec-form/model.js';
import { PlanSteps, WithSpecPreview } from '../spec-form/review.js';
import {
  AdminSection,
  ApplicationsSection,
  BasicsSection,
  ConnectionsSection,
} from '../spec-form/sections.js';
import { useSpecForm, type SpecFormState } from '../spec-form/use-spec-form.js';
import { ISOLATION_LABEL } from './OrganizationsPage.js';

const REVIEW = WIZARD_STEPS.length - 1;

export function OrgCreatePage() {
  const [committed, setCommitted] = useState<{ name: string; result: Committed } | null>(null);
  if (committed) return <CreateCommitted name={committed.name} result={committed.result} />;
  return <CreateWizard onCommitted={(name, result) => setCommitted({ name, result })} />;
}

/** GitOps mode, after "Commit organization": the commit, in place of the wizard. */
function CreateCommitted({ name, result }: { name: string; result: Committed }) {
  useDocumentTitle(`${name} committed`);
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => headingRef.current?.focus(), []);
  return (
    <>
      <p className="breadcrumb">
        <Link to="/organizations">Organizations</Link> <span aria-hidden="true">›</span> New
      </p>
      <h1 ref={headingRef} tabIndex={-1}>
        Organization {name} committed
      </h1>
      <CommittedNotice committed={result}>
        <Link to="/organizations">Back to organizations</Link>
      </CommittedNotice>
    </>
  );
}

function CreateWizard({ onCommitted }: { onCommitted: (name: string, result: Committed) => void }) {
  useDocumentTitle('Create organization');
  const catalog = useFetch<Catalog>('/api/v1/catalog');
  const sf = useSpecForm(emptyForm);
  const [step, setStep] = useState(0);
  const [attempted, setAttempted] = useState<ReadonlySet<number>>(() => new Set());
  const headingRef = useRef<HTMLHeadingElement>(null);
  const summaryRef = useRef<HTMLDivElement>(null);
  const moved = useRef(false);
  const [summaryRequest, setSummaryRequest] = useState(0);

  const focusAfterMove = useRef<string | null>(null);

  useEffect(() => {
    if (!moved.current) return;
    // "Go to <step>" from an issue: straight to the field; otherwise the step's heading.
    const path = focusAfterMove.current;
    focusAfterMove.current = null;
    if (!(path !== null && focusField(path))) headingRef.current?.focus();
  }, [step]);

  // After a "Next" that found problems, once the summary is on screen: move focus to it.
  useEffect(() => {
    if (summaryRequest > 0) summaryRef.current?.focus();
  }, [summaryRequest]);

  function goTo(target: number, focusPath?: string): void {
    moved.current = true;
    focusAfterMove.current = focusPath ?? null;
    setStep(target);
    window.scrollTo(0, 0);
  }

  function next(): void {
    const blocking = sf.clientIssues.filter((issue) => stepOfPath(issue.path) === step);
    if (blocking.length > 0) {
      sf.reveal(step);
      setAttempted((current) => new Set(current).add(step));
      setSummaryRequest((n) => n + 1);
      return;
    }
    goTo(step + 1);
  }

  const stepIssues = attempted.has(step)
    ? sf.visibleIssues.filter((issue) => stepOfPath(issue.path) === step)
    : [];
  const label = WIZARD_STEPS[step] ?? '';

  return (
    <IssuesContext value={sf.lookup}>
      <h1>Create organization</h1>
      <ol className="stepper" aria-label="Wizard steps">
        {WIZARD_STEPS.map((name, index) => (
          <li
            key={name}
            className={index < step ? 'stepper-done' : index === step ? 'stepper-current' : undefined}
            aria-current={index === step ? 'step' : undefined}
          >
            <span className="stepper-number" aria-hidden="true">
              {index < step ? '✓' : index + 1}
            </span>
            <span>{name}</span>
            {index < step && <span className="visually-hidden"> (completed)</span>}
          </li>
        ))}
      </ol>

      <WithSpecPreview spec={sf.spec}>
        <form
          className="wizard-step"
          noValidate
          aria-labelledby="wizard-step-title"
          onSubmit={(event) => {
            event.preventDefault();
            if (step < REVIEW) next();
          }}
        >
          <p className="eyebrow">
            Step {step + 1} of {WIZARD_STEPS.length}
          </p>
          <h2 id="wizard-step-title" ref={headingRef} tabIndex={-1}>
            {label}
          </h2>
          {step < REVIEW && (
            <IssueSummary
              issues={stepIssues}
              title={`Fix these to continue (${stepIssues.length}):`}
              summaryRef={summaryRef}
            />
          )}
          {step === 0 && <BasicsSection form={sf.form} setForm={sf.setForm} mode="create" />}
          {step === 1 && <ConnectionsSection form={sf.form} setForm={sf.setForm} catalog={catalog} />}
          {step === 2 && <ApplicationsSection form={sf.form} setForm={sf.setForm} catalog={catalog} />}
          {step === 3 && <AdminSection form={sf.form} setForm={sf.setForm} />}
          {step === REVIEW ? (
            <ReviewStep sf={sf} onBack={() => goTo(step - 1)} goTo={goTo} onCommitted={onCommitted} />
          ) : (
            <div className="form-actions">
              {step > 0 ? (
                <button type="button" onClick={() => goTo(step - 1)}>
                  Back
                </button>
              ) : (
                <button type="button" onClick={() => navigate('/organizations')}>
                  Cancel
                </button>
              )}
              <button type="submit" className="button-primary">
                Next
              </button>
            </div>
          )}
        </form>
      </WithSpecPreview>
    </IssuesContext>
  );
}

/** Issues grouped by the wizard step that shows their field, each group with a button to go there. */
function IssuesByStep({
  issues,
  goTo,
  title,
}: {
  issues: SpecIssue[];
  goTo: (step: number, focusPath?: string) => void;
  title: string;
}) {
  const steps = [...new Set(issues.map((issue) => stepOfPath(issue.path)))].sort((a, b) => a - b);
  return (
    <div className="callout callout-error" role="alert">
      <p className="callout-title">{title}</p>
      {steps.map((index) => {
        const group = issues.filter((issue) => stepOfPath(issue.path) === index);
        return (
          <div key={index} className="issue-group">
            <IssueSummaryList issues={group} />
            {index < REVIEW && (
              <button type="button" className="button-small" onClick={() => goTo(index, group[0]?.path)}>
                Go to {WIZARD_STEPS[index]}
              </button>
            )}
          </div>
        );
      })}
    </div>
  );
}

function IssueSummaryList({ issues }: { issues: SpecIssue[] }) {
  return (
    <ul>
      {issues.map((issue) => (
        <li key={`${issue.path}: ${issue.message}`}>
          <code>{issue.path}</code>: {issue.message}
        </li>
      ))}
    </ul>
  );
}

function ReviewStep({
  sf,
  onBack,
  goTo,
  onCommitted,
}: {
  sf: SpecFormState;
  onBack: () => void;
  goTo: (step: number, focusPath?: string) => void;
  onCommitted: (name: string, result: Committed) => void;
}) {
  const { gitops } = useSession();
  const [reason, setReason] = useState('');
  const [plan, setPlan] = useState<Plan | null>(null);
  const [planError, setPlanError] = useState<Error | null>(null);
  const [planAttempt, setPlanAttempt] = useState(0);
  const [creating, setCreating] = useState(false);
  const [createError, setCreateError] = useState<Error | null>(null);
  const [serverIssues, setServerIssues] = useState<SpecIssue[]>([]);
  const specJson = JSON.stringify(sf.spec);
  const clientIssues = sf.clientIssues;
  const { setServerIssues: markFields } = sf;

  useEffect(() => {
    if (clientIssues.length > 0) return;
    const spec = JSON.parse(specJson) as unknown;
    const controller = new AbortController();
    setPlan(null);
    setPlanError(null);
    request<Plan>('POST', '/api/v1/organizations/plan', { body: { spec }, signal: controller.signal }).then(
      (result) => setPlan(result),
      (failure: unknown) => {
        if (isAbort(failure)) return;
        if (failure instanceof ApiError && failure.code === 'spec.invalid') {
          setServerIssues(failure.issues);
          markFields(failure.issues, spec);
        }
        setPlanError(failure instanceof Error ? failure : new Error('The plan could not be made.'));
      },
    );
    return () => controller.abort();
  }, [specJson, clientIssues.length, planAttempt, markFields]);

  async function create(): Promise<void> {
    setCreating(true);
    setCreateError(null);
    const spec = sf.spec;
    try {
      const result = await request<{ organization: Organization; run: Run } | Committed>(
        'POST',
        '/api/v1/organizations',
        { body: gitops ? { spec, ...reasonBody(reason) } : { spec } },
      );
      // GitOps mode answers with the commit: the organization exists (and has a page) only once deployed.
      if ('commit' in result) onCommitted(plan?.name ?? sf.form.name, result);
      else navigate(`/organizations/${encodeURIComponent(result.organization.name)}`);
    } catch (failure) {
      if (failure instanceof ApiError && failure.code === 'spec.invalid') {
        setServerIssues(failure.issues);
        markFields(failure.issues, spec);
      }
      setCreateError(
        failure instanceof Error ? failure : new Error('The organization could not be created.'),
      );
      setCreating(false);
    }
  }

  const form = sf.form;
  return (
    <>
      {clientIssues.length > 0 && (
        <IssuesByStep issues={clientIssues} goTo={goTo} title="The spec is not complete yet:" />
      )}
      {serverIssues.length > 0 && (
        <IssuesByStep issues={serverIssues} goTo={goTo} title="The server found problems in the spec:" />
      )}

      <dl className="facts">
        <div>
          <dt>Name</dt>
          <dd>
            <code>{form.name}</code>
          </dd>
        </div>
        <div>
          <dt>Display name</dt>
          <dd>{form.displayName.trim() || <span className="muted">—</span>}</dd>
        </div>
        <div>
          <dt>Isolation</dt>
          <dd>{ISOLATION_LABEL[form.isolation]}</dd>
        </div>
        <div>
          <dt>Administrator</dt>
          <dd>{form.adminEmail.trim() || <span className="muted">none</span>}</dd>
        </div>
      </dl>

      {clientIssues.length === 0 &&
        (planError && serverIssues.length === 0 ? (
          <ErrorState
            title="The plan could not be made"
            error={planError}
            onRetry={() => setPlanAttempt((n) => n + 1)}
          />
        ) : planError ? null : !plan ? (
          <Loading label="Planning…" />
        ) : (
          <>
            {plan.exists && (
              <div className="callout callout-warning" role="alert">
                <p className="callout-title">An organization named {plan.name} already exists</p>
                <p>Go back and choose another name, or edit the existing organization instead.</p>
              </div>
            )}
            <h3>{gitops ? 'Once deployed, this will create:' : 'This will create:'}</h3>
            {plan.steps.length === 0 ? (
              <p className="muted">Nothing: Auth0 already matches this spec.</p>
            ) : (
              <PlanSteps steps={plan.steps} label="Steps to be executed" />
            )}
          </>
        ))}

      {createError && serverIssues.length === 0 && (
        <ErrorState
          title={
            createError instanceof ApiError && createError.code === 'org.exists'
              ? 'This organization already exists'
              : 'The organization could not be created'
          }
          error={createError}
        />
      )}

      {gitops && (
        <>
          <p className="hint">
            GitOps mode: this commits the organization to <code>{gitops.repository}</code> ({gitops.branch}).
            Auth0 and the organizations list change when the commit is deployed to {gitops.env}.
          </p>
          <ReasonField value={reason} onChange={setReason} />
        </>
      )}

      <div className="form-actions">
        <button type="button" onClick={onBack}>
          Back
        </button>
        <button
          type="button"
          className="button-primary"
          disabled={!plan || plan.exists || creating || clientIssues.length > 0}
          onClick={() => void create()}
        >
          {gitops
            ? creating
              ? 'Committing…'
              : 'Commit organization'
            : creating
              ? 'Creating…'
              : 'Create organization'}
        </button>
      </div>
    </>
  );
}
