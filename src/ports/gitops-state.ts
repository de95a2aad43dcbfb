/**
 * What GitOps mode keeps in orgadmin's database (issue 5): the secrets a repository names by keyword (never
 * committed), the deployments of the repository per environment, and the locks that keep one deployment per
 * environment and one commit at a time on a shared working copy.
 */

export type DeploymentState = 'running' | 'succeeded' | 'failed';

export interface Deployment {
  id: string;
  env: string;
  /** The revision deployed before (undefined for the first deployment). */
  fromRevision: string | undefined;
  toRevision: string;
  state: DeploymentState;
  requestedBy: string;
  /** Organization name → the run this deployment created for it. */
  runs: Record<string, string>;
  summary: string | undefined;
  startedAt: Date;
  finishedAt: Date | undefined;
}

export interface GitopsState {
  /**
   * Stores an organization's secrets by keyword (sealed at rest); a value that changed marks the organization for
   * the next deployment. Returns the keywords whose value changed.
   */
  saveSecrets(orgName: string, secrets: Record<string, string>): Promise<string[]>;
  /** Organizations with a secret changed since their last successful deployment. */
  organizationsWithPendingSecrets(): Promise<string[]>;
  /** The organizations' secrets are deployed (their pending marks are cleared). */
  settleSecrets(orgNames: string[]): Promise<void>;
  /** The stored secrets among `keywords`. */
  secrets(keywords: string[]): Promise<Record<string, string>>;
  /** The revision the last successful deployment to `env` brought the tenant to. */
  deployedRevision(env: string): Promise<string | undefined>;
  /** Deployments newest first. */
  listDeployments(filter: { env?: string; limit?: number }): Promise<Deployment[]>;
  startDeployment(input: {
    env: string;
    fromRevision: string | undefined;
    toRevision: string;
    requestedBy: string;
  }): Promise<Deployment>;
  recordDeploymentRuns(id: string, runs: Record<string, string>): Promise<void>;
  finishDeployment(id: string, state: 'succeeded' | 'failed', summary: string): Promise<void>;
  /**
   * Runs `fn` holding the deployment lock of `env` across every process (released the moment the holder's
   * database session ends, so a killed deploy never leaves it taken); undefined, without running `fn`, when another
   * deployment holds it.
   */
  tryWithDeployLock<T>(env: string, fn: () => Promise<T>): Promise<{ value: T } | undefined>;
  /** Runs `fn` holding the repository's commit lock (waits for it). */
  withCommitLock<T>(repository: string, fn: () => Promise<T>): Promise<T>;
}
