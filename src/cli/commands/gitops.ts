/**
 * GitOps mode's commands (issue 5): `orgadmin deploy` brings this installation's tenant to a revision of the
 * organization repository, running to completion in this process (a CI job has no worker); `orgadmin history`
 * shows the repository's commits and what each environment has deployed.
 */
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';

import { openOrgadmin, type Orgadmin } from '../../composition-root.js';
import { loadConfig } from '../../config/config.js';
import { OrgadminError } from '../../domain/errors.js';
import type { DeployResult, GitopsService } from '../../services/gitops.js';
import { printErr, type Command } from '../command.js';
import { crashHook } from './worker.js';

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

const actor = (): string => `cli:${process.env['USER'] ?? 'unknown'}`;
const short = (sha: string | undefined): string => (sha ? sha.slice(0, 12) : '(nothing)');

/** Opens orgadmin in GitOps mode; `--env NAME` stands in for ORGADMIN_GITOPS_ENV (flags win over the environment). */
async function withGitops<T>(
  fn: (gitops: GitopsService, orgadmin: Orgadmin) => Promise<T>,
  env?: string,
): Promise<T> {
  const orgadmin = await openOrgadmin(
    loadConfig({ ...process.env, ...(env === undefined ? {} : { ORGADMIN_GITOPS_ENV: env }) }, process.cwd()),
  );
  try {
    if (!orgadmin.gitops)
      throw new OrgadminError(
        'mode.mismatch',
        'GitOps mode is off: set ORGADMIN_MODE=gitops and ORGADMIN_GITOPS_REPO (a path or a git URL).',
      );
    return await fn(orgadmin.gitops, orgadmin);
  } finally {
    await orgadmin.close();
  }
}

const DEPLOY_HELP = `Usage: orgadmin deploy [--to REV] [--env NAME] [--dry-run] [--json]

Brings this installation's Auth0 tenant to revision REV of the organization repository (default: its head).
Only organizations whose files changed since the revision deployed last are read and changed. --dry-run shows
each organization's plan and writes nothing. One deployment per environment (ORGADMIN_GITOPS_ENV) at a time.
Exit code 0 when every organization was deployed, 1 otherwise (the deployed revision then stays where it was).
`;

function printResult(result: DeployResult): void {
  for (const entry of result.organizations) {
    const run = result.runs.find((candidate) => candidate.orgName === entry.name);
    const state = run ? ` — ${run.state}${run.error ? `: ${run.error}` : ''}` : '';
    print(`${entry.name}: ${entry.action}, ${entry.steps.length} step(s)${state}`);
    for (const step of entry.steps) print(`  + ${step.description}`);
  }
}

export const deployCommand: Command = {
  name: 'deploy',
  summary: 'GitOps: deploy a revision of the organization repository (--to REV, --dry-run)',
  async run(args) {
    const { values } = parseArgs({
      args,
      strict: true,
      options: {
        to: { type: 'string' },
        env: { type: 'string' },
        'dry-run': { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(DEPLOY_HELP);
      return 0;
    }
    const failpoint = crashHook(process.env['ORGADMIN_TEST_CRASH']);
    return withGitops(async (gitops, orgadmin) => {
      // The engine object is the one the deployment runs with: the test hook reaches its steps.
      if (failpoint) orgadmin.engine.__test__failpoint = failpoint;
      const started = Date.now();
      const result = await gitops.deploy({
        to: values.to,
        dryRun: values['dry-run'] ?? false,
        actor: actor(),
        onProgress: (event) => {
          if (values.json) return;
          if (event.kind === 'planned')
            printErr(
              `deploy to ${gitops.env}: ${short(event.from)} → ${short(event.to)}, ${event.organizations} organization(s) changed${values['dry-run'] ? ' (dry run: nothing is written)' : ''}`,
            );
          else if (event.kind === 'resuming')
            printErr(`  finishing ${event.runs} run(s) of interrupted deployment ${event.deployment}`);
          else if (event.kind === 'started') return;
          else if (event.kind === 'run')
            printErr(
              `  ${event.run.state === 'succeeded' ? '✓' : '✗'} ${event.run.orgName}: ${event.run.state}${event.run.error ? ` — ${event.run.error}` : ''}`,
            );
          else printErr(`  … ${event.run.orgName}: ${event.reason}; resuming`);
        },
      });
      if (values.json) print(JSON.stringify(result));
      else {
        printResult(result);
        if (!result.dryRun)
          printErr(
            `${result.deployment?.state === 'succeeded' ? 'deployed' : 'not deployed'}: ${result.deployment?.summary ?? ''} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
          );
      }
      return result.dryRun || result.deployment?.state === 'succeeded' ? 0 : 1;
    }, values.env);
  },
};

const ROLLBACK_HELP = `Usage: orgadmin rollback REV [--env NAME] [--dry-run] [--yes] [--reason TEXT] [--json]

Shows what going back to revision REV does (organizations created after REV are removed, changed ones restored,
deleted ones recreated — with new Auth0 ids), then, once confirmed (--yes, or y at the prompt), commits a restore of
every organization's files to REV and deploys it.
`;

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await prompt.question(question)).trim());
  } finally {
    prompt.close();
  }
}

export const rollbackCommand: Command = {
  name: 'rollback',
  summary: 'GitOps: restore the organizations of an earlier revision and deploy them (REV, --dry-run)',
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        'dry-run': { type: 'boolean' },
        env: { type: 'string' },
        yes: { type: 'boolean', short: 'y' },
        reason: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(ROLLBACK_HELP);
      return 0;
    }
    const [revision] = positionals;
    if (!revision || positionals.length > 1) throw new Error('name one revision: orgadmin rollback REV');
    return withGitops(async (gitops) => {
      const preview = await gitops.rollback({ to: revision, actor: actor(), dryRun: true });
      if (!values.json) {
        printErr(
          `rollback of ${gitops.env} to ${short(preview.target)}: ${preview.plan.organizations.length} organization(s)`,
        );
        printResult(preview.plan);
        if (preview.recreated.length > 0)
          printErr(
            `note: ${preview.recreated.join(', ')} will be recreated; their Auth0 organization and connections get new ids (users, members and invitations of the old ones are not restored)`,
          );
      }
      if (values['dry-run']) {
        if (values.json) print(JSON.stringify(preview));
        return 0;
      }
      if (!values.yes && !(await confirm('Commit and deploy this rollback? [y/N] '))) {
        printErr('not rolled back (pass --yes when there is no terminal to ask)');
        return 1;
      }
      const result = await gitops.rollback({ to: revision, actor: actor(), reason: values.reason });
      if (values.json) print(JSON.stringify(result));
      else
        printErr(
          `${result.commit ? `committed ${short(result.commit.sha)}; ` : 'the head already had these files; '}${result.deployed?.deployment?.state === 'succeeded' ? 'deployed' : 'not deployed'}: ${result.deployed?.deployment?.summary ?? ''}`,
        );
      return result.deployed?.deployment?.state === 'succeeded' ? 0 : 1;
    }, values.env);
  },
};

const DRIFT_HELP = `Usage: orgadmin drift [--org NAME]... [--env NAME] [--json]

Compares the revision deployed to this environment with the tenant and lists, for each organization that differs,
what a deployment would change to bring it back. Reads only. Exit code 0 when nothing drifted, 1 when something did.
`;

export const driftCommand: Command = {
  name: 'drift',
  summary: 'GitOps: differences between the deployed revision and the tenant (--org NAME)',
  async run(args) {
    const { values } = parseArgs({
      args,
      strict: true,
      options: {
        org: { type: 'string', multiple: true },
        env: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(DRIFT_HELP);
      return 0;
    }
    return withGitops(async (gitops) => {
      let seen = 0;
      const report = await gitops.drift({
        orgs: values.org,
        onProgress: () => {
          seen += 1;
          if (!values.json && seen % 100 === 0) printErr(`  … ${seen} organizations compared`);
        },
      });
      if (values.json) print(JSON.stringify(report));
      else if (!report.revision) printErr(`nothing is deployed to ${gitops.env} yet`);
      else {
        for (const entry of report.drifted) {
          print(`${entry.name}: drifted, ${entry.steps.length} difference(s)`);
          for (const step of entry.steps) print(`  ~ ${step.description}`);
        }
        printErr(
          `${report.compared} organization(s) of ${short(report.revision)} compared with the tenant: ${report.drifted.length} drifted`,
        );
      }
      return report.drifted.length === 0 ? 0 : 1;
    }, values.env);
  },
};

const GITOPS_HELP = `Usage: orgadmin gitops init [--from-tenant] [--adopt] [--dry-run] [--json]

Starts the organization repository (ORGADMIN_GITOPS_REPO, which must hold no organization yet) from what exists:
the organizations this installation applied in live mode and, with --from-tenant, those in the tenant that orgadmin
created; --adopt also takes over organizations it did not create (they are tagged as orgadmin's in the tenant). One
commit, recorded as deployed (the tenant already is that state). --dry-run lists what would be written and why
others are left out, and changes nothing.
`;

export const gitopsCommand: Command = {
  name: 'gitops',
  summary: 'GitOps: start the organization repository from this installation and the tenant (init)',
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        'from-tenant': { type: 'boolean' },
        adopt: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help || positionals[0] !== 'init' || positionals.length > 1) {
      process.stdout.write(GITOPS_HELP);
      return values.help ? 0 : 2;
    }
    return withGitops(async (gitops) => {
      const report = await gitops.init({
        fromTenant: values['from-tenant'] ?? false,
        adopt: values.adopt ?? false,
        dryRun: values['dry-run'] ?? false,
        actor: actor(),
      });
      if (values.json) {
        print(JSON.stringify(report));
        return 0;
      }
      for (const entry of report.imported)
        print(
          `${entry.name}: ${values['dry-run'] ? 'would import' : 'imported'} from ${entry.from}${entry.adopted ? ' (adopted)' : ''}`,
        );
      for (const entry of report.skipped) print(`${entry.name}: left out — ${entry.reason}`);
      printErr(
        report.commit
          ? `committed ${short(report.commit.sha)} ${report.commit.subject}; recorded as deployed to ${gitops.env}`
          : values['dry-run']
            ? 'dry run: nothing committed, nothing tagged'
            : 'nothing to import',
      );
      return 0;
    });
  },
};

const HISTORY_HELP = `Usage: orgadmin history [--limit N] [--json]

The organization repository's commits, newest first (who, when, what), and which revision each environment has
deployed.
`;

export const historyCommand: Command = {
  name: 'history',
  summary: 'GitOps: commits of the organization repository and what is deployed where',
  async run(args) {
    const { values } = parseArgs({
      args,
      strict: true,
      options: {
        limit: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(HISTORY_HELP);
      return 0;
    }
    const limit = values.limit === undefined ? 20 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new Error('--limit must be an integer from 1 to 1000');
    return withGitops(async (gitops) => {
      const { commits, deployments } = await gitops.history(limit);
      const deployed = new Map<string, string[]>();
      for (const deployment of deployments) {
        if (deployment.state !== 'succeeded') continue;
        if ([...deployed.values()].some((envs) => envs.includes(deployment.env))) continue;
        deployed.set(deployment.toRevision, [...(deployed.get(deployment.toRevision) ?? []), deployment.env]);
      }
      if (values.json) {
        print(
          JSON.stringify({
            commits: commits.map((commit) => ({ ...commit, deployedTo: deployed.get(commit.sha) ?? [] })),
            deployments,
          }),
        );
        return 0;
      }
      for (const commit of commits) {
        const envs = deployed.get(commit.sha);
        print(
          `${short(commit.sha)}  ${commit.date.toISOString()}  ${commit.author.name.padEnd(24)} ${commit.subject}${envs ? `  [deployed: ${envs.join(', ')}]` : ''}`,
        );
      }
      if (commits.length === 0) printErr(`no commits yet in ${gitops.repository.location}`);
      return 0;
    });
  },
};
