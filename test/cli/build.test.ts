/**
 * The compiled CLI (`npm run build`, bin/build.js): it runs under plain node with every command's chunk loadable, and
 * a build whose inputs or outputs changed is reported stale and rebuilt — never run as if current. Built in a copy
 * of the sources, so the checkout's dist/ is left alone.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

const root = resolve('.');
const copy = mkdtempSync(join(tmpdir(), 'orgadmin-build-'));
for (const path of ['bin', 'src', 'auth0-local', 'tsconfig.json', 'package.json'])
  cpSync(join(root, path), join(copy, path), { recursive: true });
symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
afterAll(() => rmSync(copy, { recursive: true, force: true }));

const node = (...args: string[]): { status: number | null; stdout: string; stderr: string } => {
  const { status, stdout, stderr } = spawnSync(process.execPath, args, { cwd: copy, encoding: 'utf8' });
  return { status, stdout, stderr };
};

describe('npm run build', () => {
  it('compiles a CLI that runs under plain node', { timeout: 60_000 }, () => {
    expect(node('bin/build.js').status).toBe(0);
    const help = node('dist/orgadmin.mjs', '--help');
    expect(help.status).toBe(0);
    for (const command of ['start', 'worker', 'org', 'deploy', 'auth0-local'])
      expect(help.stdout).toContain(`  ${command} `);
    const worker = node('dist/orgadmin.mjs', 'worker', '--help');
    expect(worker.status).toBe(0);
    expect(worker.stdout).toContain('Usage: orgadmin worker');
    expect(node('bin/build.js', '--check').status).toBe(0);
  });

  it(
    'calls a build stale when a source or an output changed, and --if-stale rebuilds it',
    { timeout: 60_000 },
    () => {
      appendFileSync(join(copy, 'src/cli/commands/worker.ts'), '\n// changed after the build\n');
      const check = node('bin/build.js', '--check');
      expect(check.status).toBe(1);
      expect(check.stderr).toContain('src/cli/commands/worker.ts changed');
      expect(node('bin/build.js', '--if-stale').status).toBe(0);
      expect(node('bin/build.js', '--check').status).toBe(0);

      appendFileSync(join(copy, 'dist/orgadmin.mjs'), '\n// edited by hand\n');
      expect(node('bin/build.js', '--check').stderr).toContain(
        'dist/orgadmin.mjs differs from what was built',
      );
      expect(node('bin/build.js', '--if-stale').status).toBe(0);
      expect(node('bin/build.js', '--check').status).toBe(0);
    },
  );
});
