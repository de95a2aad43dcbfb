/**
 * The `OrgRepository` port on real git (driven through `simple-git`; `git cat-file --batch` directly, for reading
 * many files in one process). orgadmin keeps a working copy of the repository under its home folder and never
 * commits anywhere but on top of the remote's head: each commit starts from a fresh `origin/<branch>`, and a push
 * that loses a race is redone on the new head, so concurrent writers (other orgadmin processes, people) never
 * overwrite each other. Every git operation of this process on the working copy takes its turn; processes that share
 * a working copy take turns through the caller's database lock (services/gitops.ts) for commits, and retry a fetch
 * that met another one's ref lock.
 *
 * Defences, because the repository's content is not ours to trust: symbolic links are checked out as plain files
 * (`core.symlinks=false`) and refused where a file is read or written; paths are relative, without `..`, `.git` or
 * control characters; revisions are only what the branch's history holds; git never prompts; credentials in the
 * repository URL never appear in a message.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve as resolvePath } from 'node:path';

import { simpleGit, type SimpleGit } from 'simple-git';

import { OrgadminError } from '../../domain/errors.js';
import type { CommitAuthor, OrgRepository, RepoCommit } from '../../ports/org-repository.js';

export interface GitOrgRepositoryOptions {
  /** The repository: a local path (usually a bare repository) or any URL git can reach. */
  location: string;
  /** Where the working copies live (`<home>/gitops`). */
  workRoot: string;
  branch?: string;
  /** Who commits (the operator is the author). */
  committer?: CommitAuthor;
  /** How often a commit is redone after losing a push race. */
  pushAttempts?: number;
}

const FIELD = '\u001f';
const RECORD = '\u001e';
const LOG_FORMAT = `--format=%H${FIELD}%an${FIELD}%ae${FIELD}%aI${FIELD}%s${FIELD}%b${RECORD}`;

/** A repository URL as it may be shown: `https://user:token@host/x.git` → `https://host/x.git`. */
export function displayLocation(location: string): string {
  return location.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

function passThrough(names: string[]): Record<string, string> {
  return Object.fromEntries(
    names.flatMap((name) => {
      const value = process.env[name];
      return value === undefined ? [] : [[name, value]];
    }),
  );
}

/** Whether text holds a control character (a newline would split `cat-file --batch` requests, for one). */
const hasControlCharacter = (text: string): boolean =>
  [...text].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f);

/** A path inside the repository: relative, no `..`, no `.git`, no control characters. */
function safePath(path: string): string {
  const parts = path.split('/');
  if (
    path.startsWith('/') ||
    hasControlCharacter(path) ||
    parts.some((part) => part === '' || part === '.' || part === '..' || part.toLowerCase() === '.git')
  )
    throw new OrgadminError('repository.invalid', `refusing the path ${JSON.stringify(path)}`);
  return path;
}

export function createGitOrgRepository(options: GitOrgRepositoryOptions): OrgRepository {
  const branch = options.branch ?? 'main';
  const remoteRef = `refs/remotes/origin/${branch}`;
  const committer = options.committer ?? { name: 'orgadmin', email: 'orgadmin@localhost' };
  const pushAttempts = options.pushAttempts ?? 5;
  const remote =
    /^[a-z][a-z0-9+.-]*:\/\//i.test(options.location) || options.location.includes('@')
      ? options.location
      : resolvePath(options.location);
  const location = displayLocation(remote);
  const dir = join(options.workRoot, createHash('sha256').update(remote).digest('hex').slice(0, 16));
  // Only what git needs to find itself and its credentials: variables like EDITOR, PAGER or GIT_DIR could make it
  // run other programs or work on another repository.
  const env = {
    ...passThrough(['PATH', 'HOME', 'SSH_AUTH_SOCK', 'HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY']),
    LANG: 'C',
    // Never wait for a password prompt; fail instead.
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: committer.name,
    GIT_AUTHOR_EMAIL: committer.email,
    GIT_COMMITTER_NAME: committer.name,
    GIT_COMMITTER_EMAIL: committer.email,
  };
  let ready: Promise<SimpleGit> | undefined;
  let turn: Promise<unknown> = Promise.resolve();

  const unavailable = (what: string, error: unknown): OrgadminError => {
    const raw = error instanceof Error ? error.message : String(error);
    const message = raw.split(remote).join(location).trim().split('\n').slice(-3).join(' ');
    return new OrgadminError('repository.unavailable', `git ${what} failed: ${message}`);
  };

  /** One git operation of this process on the working copy at a time. */
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const mine = turn.then(fn);
    turn = mine.catch(() => undefined);
    return mine;
  };

  const gitIn = (baseDir: string): SimpleGit => simpleGit({ baseDir }).env(env);

  const open = (): Promise<SimpleGit> => {
    ready ??= (async () => {
      try {
        if (!existsSync(join(dir, '.git'))) {
          await rm(dir, { recursive: true, force: true });
          await mkdir(dirname(dir), { recursive: true });
          await gitIn(options.workRoot).clone(remote, dir, ['--no-checkout', '-c', 'core.symlinks=false']);
        }
        const git = gitIn(dir);
        await git.raw(['config', 'core.symlinks', 'false']);
        return git;
      } catch (error) {
        ready = undefined;
        throw unavailable(`clone of ${location}`, error);
      }
    })();
    return ready;
  };

  const fetch = async (git: SimpleGit): Promise<void> => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await git.fetch(['origin', '--prune']);
        return;
      } catch (error) {
        // Another process sharing the working copy fetched at the same moment: its fetch did ours.
        const message = error instanceof Error ? error.message : String(error);
        if (attempt < 5 && /cannot lock ref|Unable to create .*\.lock/i.test(message)) continue;
        throw unavailable(`fetch from ${location}`, error);
      }
    }
  };

  const remoteHead = async (git: SimpleGit): Promise<string | undefined> => {
    const sha = (await git.raw(['rev-parse', '--verify', '-q', remoteRef]).catch(() => '')).trim();
    return sha === '' ? undefined : sha;
  };

  /** `HEAD` means the remote's head here: the working copy's own HEAD and branches are implementation details. */
  const revisionArg = (revision: string): string =>
    revision === 'HEAD' || /^HEAD[~^]/.test(revision) ? `${remoteRef}${revision.slice(4)}` : revision;

  /**
   * A revision of the branch's history: a sha (or its prefix), a tag, `HEAD~N`. Anything else — another branch, a
   * commit that was never pushed — is refused, so a deployment only ever runs what was reviewed into the branch.
   */
  const resolve = async (git: SimpleGit, revision: string): Promise<string> => {
    if (
      revision.startsWith('-') ||
      hasControlCharacter(revision) ||
      /\s/.test(revision) ||
      revision.includes('..')
    )
      throw new OrgadminError('repository.invalid', `${revision} is not a revision`);
    const sha = (
      await git.raw(['rev-parse', '--verify', '-q', `${revisionArg(revision)}^{commit}`]).catch(() => '')
    ).trim();
    if (sha === '') throw new OrgadminError('repository.invalid', `no revision ${revision} in ${location}`);
    const head = await remoteHead(git);
    const onBranch =
      head !== undefined &&
      (await git.raw(['merge-base', '--is-ancestor', sha, head]).then(
        () => true,
        () => false,
      ));
    if (!onBranch)
      throw new OrgadminError(
        'repository.invalid',
        `${revision} is not in the history of ${branch} in ${location}`,
      );
    return sha;
  };

  /** A full sha already fetched is read as it is; anything else (HEAD, a tag) after a fresh fetch. */
  const resolveFresh = async (revision: string): Promise<{ git: SimpleGit; sha: string }> => {
    const git = await open();
    if (/^[0-9a-f]{40}$/.test(revision)) {
      const sha = await resolve(git, revision).catch(() => undefined);
      if (sha) return { git, sha };
    }
    await fetch(git);
    return { git, sha: await resolve(git, revision) };
  };

  const parseLog = (output: string): RepoCommit[] =>
    output
      .split(RECORD)
      .map((record) => record.replace(/^\n/, ''))
      .filter((record) => record.trim() !== '')
      .map((record) => {
        const [sha = '', name = '', email = '', date = '', subject = '', body = ''] = record.split(FIELD);
        return { sha, author: { name, email }, date: new Date(date), subject, body: body.trim() };
      });

  /** Reads many blobs through one `git cat-file --batch`. */
  const catFiles = (revision: string, paths: string[]): Promise<Map<string, string>> =>
    new Promise((resolveFiles, reject) => {
      const child = spawn('git', ['cat-file', '--batch'], { cwd: dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
      const chunks: Buffer[] = [];
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      // A git that died early closes its stdin: the 'close' handler reports why.
      child.stdin.on('error', () => undefined);
      child.on('error', reject);
      child.on('close', (code) => {
        if (code !== 0) return reject(unavailable('cat-file', new Error(stderr || `exit ${code}`)));
        const output = Buffer.concat(chunks);
        const files = new Map<string, string>();
        let offset = 0;
        for (const path of paths) {
          const end = output.indexOf(0x0a, offset);
          const header = output.subarray(offset, end).toString();
          offset = end + 1;
          if (header.endsWith(' missing') || header.endsWith(' ambiguous')) continue;
          const [, type, size] = header.split(' ');
          const length = Number(size);
          if (type === 'blob') files.set(path, output.subarray(offset, offset + length).toString('utf8'));
          offset += length + 1;
        }
        resolveFiles(files);
      });
      child.stdin.end(paths.map((path) => `${revision}:${path}\n`).join(''));
    });

  /** The working-copy file for a path, refusing a symbolic link anywhere along it. */
  const fileFor = async (path: string): Promise<string> => {
    const parts = safePath(path).split('/');
    for (let index = 1; index <= parts.length; index += 1) {
      const stat = await lstat(join(dir, ...parts.slice(0, index))).catch(() => undefined);
      if (!stat) break;
      if (stat.isSymbolicLink())
        throw new OrgadminError('repository.invalid', `refusing ${path}: it goes through a symbolic link`);
    }
    return join(dir, ...parts);
  };

  const commitOnce = async (
    git: SimpleGit,
    input: Parameters<OrgRepository['commit']>[0],
  ): Promise<RepoCommit | undefined | 'lost-race'> => {
    await fetch(git);
    const base = await remoteHead(git);
    if (base) {
      await git.raw(['checkout', '-q', '-f', '-B', branch, base]);
      await git.raw(['reset', '-q', '--hard', base]);
    } else {
      // The remote has no commit yet: start the branch from nothing (dropping a local commit a failed push left).
      await git.raw(['update-ref', '-d', `refs/heads/${branch}`]).catch(() => undefined);
      await git.raw(['symbolic-ref', 'HEAD', `refs/heads/${branch}`]);
      await git.raw(['read-tree', '--empty']);
    }
    await git.raw(['clean', '-q', '-fdx']);
    const { files: changes, message } = await input.change(
      async (path) => {
        const file = await fileFor(path);
        return existsSync(file) ? readFile(file, 'utf8') : undefined;
      },
      async () => (await git.raw(['ls-files', '-z'])).split('\0').filter((path) => path !== ''),
    );
    const paths: string[] = [];
    for (const [path, text] of changes) {
      const file = await fileFor(path);
      if (text === undefined) {
        // `git add` refuses a path that neither exists nor is tracked.
        if (!existsSync(file)) continue;
        await rm(file, { force: true });
      } else {
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, text);
      }
      paths.push(path);
    }
    if (paths.length === 0) return undefined;
    await git.raw(['add', '-A', '--', ...paths]);
    const staged = (await git.raw(['diff', '--cached', '--name-only'])).trim();
    if (staged === '') return undefined;
    const author = `${input.author.name.replace(/[<>\n]/g, '')} <${input.author.email.replace(/[<>\s]/g, '')}>`;
    await git.raw(['commit', '-q', '--no-verify', `--author=${author}`, '-m', message]);
    try {
      await git.raw(['push', '-q', 'origin', `HEAD:refs/heads/${branch}`]);
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      if (/\[rejected\]|non-fast-forward|fetch first|failed to update ref|cannot lock ref/i.test(text))
        return 'lost-race';
      throw unavailable(`push to ${location}`, error);
    }
    const [commit] = parseLog(await git.raw(['log', '-1', LOG_FORMAT]));
    return commit;
  };

  return {
    location,

    head: () =>
      exclusive(async () => {
        const git = await open();
        await fetch(git);
        return remoteHead(git);
      }),

    resolve: (revision) => exclusive(async () => (await resolveFresh(revision)).sha),

    readFiles: (revision, paths) =>
      exclusive(async () => {
        const { sha } = await resolveFresh(revision);
        return paths.length === 0 ? new Map() : catFiles(sha, paths.map(safePath));
      }),

    listFiles: (revision, folder) =>
      exclusive(async () => {
        const { git, sha } = await resolveFresh(revision);
        const output = await git.raw([
          'ls-tree',
          '-r',
          '--name-only',
          '-z',
          sha,
          ...(folder ? ['--', safePath(folder)] : []),
        ]);
        return output.split('\0').filter((path) => path !== '');
      }),

    changedPaths: (from, to) =>
      exclusive(async () => {
        const { git, sha: target } = await resolveFresh(to);
        if (from === undefined) {
          const output = await git.raw(['ls-tree', '-r', '--name-only', '-z', target]);
          return output.split('\0').filter((path) => path !== '');
        }
        const { sha: source } = await resolveFresh(from);
        const output = await git.raw(['diff', '--name-only', '--no-renames', '-z', source, target]);
        return output.split('\0').filter((path) => path !== '');
      }),

    commit: (input) =>
      exclusive(async () => {
        const git = await open();
        for (let attempt = 1; attempt <= pushAttempts; attempt += 1) {
          let outcome: RepoCommit | undefined | 'lost-race';
          try {
            outcome = await commitOnce(git, input);
          } catch (error) {
            if (error instanceof OrgadminError) throw error;
            throw unavailable('commit', error);
          }
          if (outcome !== 'lost-race') return outcome;
        }
        throw new OrgadminError(
          'repository.unavailable',
          `${location} kept changing: ${pushAttempts} pushes in a row lost the race to other writers`,
        );
      }),

    log: (options = {}) =>
      exclusive(async () => {
        const git = await open();
        await fetch(git);
        const start = options.revision ? await resolve(git, options.revision) : await remoteHead(git);
        if (!start) return [];
        const output = await git.raw([
          'log',
          `--max-count=${Math.max(1, Math.min(options.limit ?? 50, 1000))}`,
          LOG_FORMAT,
          start,
          ...(options.path ? ['--', safePath(options.path)] : []),
        ]);
        return parseLog(output);
      }),
  };
}
