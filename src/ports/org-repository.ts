/**
 * The GitOps organization repository (issue 5): a git repository in auth0-deploy-cli's directory format that holds
 * every organization orgadmin manages. A change is a commit pushed to the repository's remote; a deployment reads
 * two revisions and what changed between them.
 */

export interface CommitAuthor {
  name: string;
  email: string;
}

export interface RepoCommit {
  sha: string;
  author: CommitAuthor;
  date: Date;
  /** The first line of the message. */
  subject: string;
  /** The rest of the message. */
  body: string;
}

/** What one commit writes: new text for a path, or `undefined` to delete it. */
export type FileChanges = Map<string, string | undefined>;

export interface OrgRepository {
  /** Where the repository lives (a path or a git URL), for messages: credentials in a URL are removed. */
  readonly location: string;
  /** Fetches the remote and returns the sha of its branch head (undefined while the repository has no commit). */
  head(): Promise<string | undefined>;
  /** The full sha of a revision (a sha, tag, branch, `HEAD~2`, …) after fetching; `repository.invalid` if unknown. */
  resolve(revision: string): Promise<string>;
  /** The text of files at a revision, by path; absent paths are missing from the map. One git process per call. */
  readFiles(revision: string, paths: string[]): Promise<Map<string, string>>;
  /** Every file path at a revision, optionally only under a folder. */
  listFiles(revision: string, folder?: string): Promise<string[]>;
  /** Paths that differ between two revisions (`from` undefined: every path at `to`). */
  changedPaths(from: string | undefined, to: string): Promise<string[]>;
  /**
   * Commits on top of the remote's head and pushes. `change` is called with a reader of the head's files and returns
   * what to write; if another writer pushed first, it is called again on the new head (so it never overwrites a
   * concurrent change). Returns undefined when the change leaves every file as it was (no commit).
   */
  commit(input: {
    author: CommitAuthor;
    /** What to write, and the commit message that says so. */
    change: (
      read: (path: string) => Promise<string | undefined>,
      /** Every file path of the head the change starts from. */
      list: () => Promise<string[]>,
    ) => Promise<{ files: FileChanges; message: string }>;
  }): Promise<RepoCommit | undefined>;
  /** Commits newest first, optionally only those touching a path. */
  log(options?: { limit?: number; path?: string; revision?: string }): Promise<RepoCommit[]>;
}
