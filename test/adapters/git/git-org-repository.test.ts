/**
 * The git adapter of the GitOps repository, on real git and a local bare repository: commits carry the operator as
 * author, two writers with their own working copies never overwrite each other (the loser of a push race redoes its
 * change on the new head), and reads see exactly one revision.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { beforeEach, describe, expect, it } from 'vitest';

import { createGitOrgRepository } from '../../../src/adapters/git/git-org-repository.js';
import type { OrgRepository } from '../../../src/ports/org-repository.js';

let bare: string;
let root: string;
const open = (name: string): OrgRepository =>
  createGitOrgRepository({ location: bare, workRoot: join(root, name) });
const ada = { name: 'Ada Lovelace', email: 'ada@acme.example' };

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'orgadmin-git-'));
  bare = join(root, 'orgs.git');
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare]);
});

const write = (files: Record<string, string | undefined>, message: string) => () =>
  Promise.resolve({ files: new Map(Object.entries(files)), message });

describe('git organization repository', () => {
  it('commits as the operator on an empty repository, then reads revisions and their differences', async () => {
    const repo = open('one');
    expect(await repo.head()).toBeUndefined();
    const first = await repo.commit({
      author: ada,
      change: write(
        { 'organizations/acme.json': '{"name":"acme"}\n' },
        'Create organization acme\n\nRequested in the portal.',
      ),
    });
    expect(first).toMatchObject({
      author: ada,
      subject: 'Create organization acme',
      body: 'Requested in the portal.',
    });
    const second = await repo.commit({
      author: ada,
      change: write(
        { 'organizations/acme.json': undefined, 'organizations/beta.json': '{"name":"beta"}\n' },
        'Delete organization acme',
      ),
    });
    expect(await repo.head()).toBe(second!.sha);
    expect(await repo.changedPaths(first!.sha, second!.sha)).toEqual([
      'organizations/acme.json',
      'organizations/beta.json',
    ]);
    expect(await repo.changedPaths(undefined, first!.sha)).toEqual(['organizations/acme.json']);
    const before = await repo.readFiles(first!.sha, ['organizations/acme.json', 'organizations/beta.json']);
    expect([...before]).toEqual([['organizations/acme.json', '{"name":"acme"}\n']]);
    expect(await repo.resolve('HEAD~1')).toBe(first!.sha);
    expect((await repo.log()).map((commit) => commit.subject)).toEqual([
      'Delete organization acme',
      'Create organization acme',
    ]);
    expect(git(bare, 'log', '--format=%an <%ae>|%cn', 'main').trim().split('\n')).toEqual([
      'Ada Lovelace <ada@acme.example>|orgadmin',
      'Ada Lovelace <ada@acme.example>|orgadmin',
    ]);
  });

  it('makes no commit when nothing changes', async () => {
    const repo = open('one');
    await repo.commit({ author: ada, change: write({ 'a.json': '1\n' }, 'one') });
    expect(await repo.commit({ author: ada, change: write({ 'a.json': '1\n' }, 'same') })).toBeUndefined();
    expect(await repo.log()).toHaveLength(1);
  });

  it('two writers with their own working copies both land; the later one redoes its change on the new head', async () => {
    const a = open('a');
    const b = open('b');
    await a.commit({ author: ada, change: write({ 'list.txt': '' }, 'start') });
    let calls = 0;
    // b reads the head, then a pushes before b does: b's first push loses, and its change is recomputed.
    const bDone = b.commit({
      author: { name: 'Bob', email: 'bob@acme.example' },
      change: async (read) => {
        calls += 1;
        const text = (await read('list.txt')) ?? '';
        if (calls === 1)
          await a.commit({
            author: ada,
            change: async (r) => ({
              files: new Map([['list.txt', `${(await r('list.txt')) ?? ''}a\n`]]),
              message: 'a appends',
            }),
          });
        return { files: new Map([['list.txt', `${text}b\n`]]), message: 'b appends' };
      },
    });
    await bDone;
    expect(calls).toBe(2);
    const files = await a.readFiles('HEAD', ['list.txt']);
    expect(files.get('list.txt')).toBe('a\nb\n');
  });

  it('refuses paths that would leave the working copy', async () => {
    const repo = open('one');
    await expect(
      repo.commit({ author: ada, change: write({ '../escape.json': '{}' }, 'x') }),
    ).rejects.toThrow(/refusing the path/);
    await expect(repo.resolve('--output=/tmp/x')).rejects.toThrow(/not a revision/);
  });

  it('names the repository when git cannot reach it', async () => {
    const repo = createGitOrgRepository({ location: join(root, 'missing.git'), workRoot: join(root, 'w') });
    await expect(repo.head()).rejects.toThrow(/git clone of .*missing\.git failed/);
  });
});

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' });
}
