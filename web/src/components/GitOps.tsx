/**
 * GitOps mode in the portal's change flows: the optional reason that goes into the commit message, what a change
 * became (the commit, and that only a deploy changes Auth0), and which committed changes an environment has not
 * deployed yet — the organizations list shows the deployed state, so that gap must be visible.
 */
import { useId, type ReactNode } from 'react';

import type { Commit, Committed, GitopsHistory, HistoryCommit } from '../api.js';
import { useFetch } from '../hooks.js';
import { Link, navigate } from '../router.js';
import { useSession } from '../session.js';
import { Time } from './ui.js';

/** git's own short form. */
export const shortSha = (sha: string): string => sha.slice(0, 7);

/** Where an operator plans and starts a deploy; `?plan=1` makes the History page show the plan at once. */
export const DEPLOY_URL = '/history?plan=1';

/**
 * A deploy records the revision it deployed in the repository's manifest as a commit of its own (services/gitops.ts,
 * `noteDeployed`). Such a commit changes no organization, so it is not a change waiting for a deploy.
 */
const DEPLOYMENT_RECORD = /^Deployed [0-9a-f]{7,40} to \S+ \[skip ci\]$/;

export function isDeploymentRecord(commit: Commit): boolean {
  return DEPLOYMENT_RECORD.test(commit.subject);
}

export interface Undeployed {
  /** The newest commit deployed to the environment (undefined: none among the commits read). */
  deployed: HistoryCommit | undefined;
  /** Committed changes (deployment records aside) newer than `deployed`. */
  changes: HistoryCommit[];
  /** The deployed commit is older than the commits read: there may be more changes than `changes`. */
  more: boolean;
}

/** The commits (newest first, linear: orgadmin never force-pushes) that `env` has not deployed yet. */
export function undeployed(history: GitopsHistory, env: string, limit: number): Undeployed {
  const index = history.commits.findIndex((commit) => commit.deployedTo.includes(env));
  const newer = index === -1 ? history.commits : history.commits.slice(0, index);
  return {
    deployed: index === -1 ? undefined : history.commits[index],
    changes: newer.filter((commit) => !isDeploymentRecord(commit)),
    more: index === -1 && history.commits.length >= limit,
  };
}

const PENDING_LIMIT = 100;

/** GitOps mode: the committed changes this portal's environment has not deployed (null while unknown or live). */
export function usePendingChanges(): Undeployed | null {
  const { gitops } = useSession();
  const history = useFetch<GitopsHistory>(gitops ? `/api/v1/gitops/history?limit=${PENDING_LIMIT}` : null);
  if (!gitops || !history.data) return null;
  return undeployed(history.data, gitops.env, PENDING_LIMIT);
}

export const changeCount = (pending: Undeployed): string => {
  const n = pending.changes.length;
  return `${n}${pending.more ? '+' : ''} committed change${n === 1 && !pending.more ? '' : 's'}`;
};

/** The optional reason of a change (GitOps mode), which the server puts into the commit message. */
export function ReasonField({
  value,
  onChange,
  label = 'Reason (goes into the commit message)',
}: {
  value: string;
  onChange: (value: string) => void;
  label?: string;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <p className="hint" id={`${id}-hint`}>
        Optional. Why this change is made, for whoever reads the repository&apos;s history.
      </p>
      <input
        id={id}
        value={value}
        maxLength={500}
        autoComplete="off"
        aria-describedby={`${id}-hint`}
        onChange={(event) => onChange(event.target.value)}
      />
    </div>
  );
}

/** `reason` as the API takes it: left out when blank. */
export function reasonBody(reason: string): { reason?: string } {
  const trimmed = reason.trim();
  return trimmed === '' ? {} : { reason: trimmed };
}

/** One commit in a line: short sha, subject, author and date. */
export function CommitLine({ commit }: { commit: Commit }) {
  return (
    <>
      <code>{shortSha(commit.sha)}</code> {commit.subject}{' '}
      <span className="muted">
        by {commit.author.name} &lt;{commit.author.email}&gt;, <Time value={commit.date} />
      </span>
    </>
  );
}

/**
 * What a change became in GitOps mode: its commit, and what to do next — nothing reaches Auth0 (or the
 * organizations list, which shows what is deployed) until a deploy.
 */
export function CommittedNotice({ committed, children }: { committed: Committed; children?: ReactNode }) {
  const session = useSession();
  const env = session.gitops?.env ?? 'this environment';
  const { commit } = committed;
  return (
    <div className="callout callout-success committed" role="status">
      {commit ? (
        <>
          <p className="callout-title">
            Committed <code>{shortSha(commit.sha)}</code>: {commit.subject}
          </p>
          <p>
            Author: {commit.author.name} &lt;{commit.author.email}&gt;, <Time value={commit.date} />
          </p>
          <p>
            Nothing changes in Auth0 — nor in the organizations list, which shows what is deployed — until
            this revision is deployed to <strong>{env}</strong>.
          </p>
        </>
      ) : (
        <p className="callout-title">Nothing to commit: the repository already holds exactly this.</p>
      )}
      <div className="actions">
        {session.isOperator && commit && (
          <button type="button" className="button-primary" onClick={() => navigate(DEPLOY_URL)}>
            Deploy…
          </button>
        )}
        <Link to="/history">Open the history</Link>
        {children}
      </div>
    </div>
  );
}

/** The note that says what a GitOps installation's pages show, with the changes waiting for a deploy. */
export function DeployedStateNote({ subject }: { subject: string }) {
  const { gitops, isOperator } = useSession();
  const pending = usePendingChanges();
  if (!gitops) return null;
  return (
    <div className="callout gitops-note">
      <p>
        <strong>GitOps mode.</strong> {subject} shows what is deployed to <strong>{gitops.env}</strong>. A
        change made here becomes a commit to <code>{gitops.repository}</code> ({gitops.branch}) and appears
        here once it is deployed.
      </p>
      {pending && pending.changes.length > 0 && (
        <p>
          {changeCount(pending)} not deployed yet.{' '}
          <Link to="/history">{isOperator ? 'Review and deploy them' : 'See them in the history'}</Link>
        </p>
      )}
    </div>
  );
}
