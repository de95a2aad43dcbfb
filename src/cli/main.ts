/**
 * The `orgadmin` command line. This folder is the only place that reads argv, writes to the terminal or decides an
 * exit code; commands return their exit code instead of calling `process.exit`. stdout carries machine-readable
 * output only (e.g. auth0-local's JSON line); everything for humans goes to stderr.
 */
import { ERROR_CODES, OrgadminError } from '../domain/errors.js';
import type { Command } from './command.js';

/**
 * Each command's module is imported only when that command runs: a process loads what its command needs and no
 * more (a `worker` needs neither the portal nor auth0-local nor GitOps, which cost it memory for its whole life).
 */
const COMMANDS: [name: string, load: () => Promise<Command>][] = [
  ['start', async () => (await import('./commands/start.js')).startCommand],
  ['serve', async () => (await import('./commands/serve.js')).serveCommand],
  ['org', async () => (await import('./commands/org.js')).orgCommand],
  ['runs', async () => (await import('./commands/org.js')).runsCommand],
  ['run', async () => (await import('./commands/org.js')).runCommand],
  ['worker', async () => (await import('./commands/worker.js')).workerCommand],
  ['tenant', async () => (await import('./commands/tenant.js')).tenantCommand],
  ['hooks', async () => (await import('./commands/hooks.js')).hooksCommand],
  ['events', async () => (await import('./commands/events.js')).eventsCommand],
  ['deploy', async () => (await import('./commands/gitops.js')).deployCommand],
  ['rollback', async () => (await import('./commands/gitops.js')).rollbackCommand],
  ['drift', async () => (await import('./commands/gitops.js')).driftCommand],
  ['history', async () => (await import('./commands/gitops.js')).historyCommand],
  ['gitops', async () => (await import('./commands/gitops.js')).gitopsCommand],
  ['auth0-local', async () => (await import('./commands/auth0-local.js')).auth0LocalCommand],
];

async function usage(): Promise<string> {
  const commands = await Promise.all(COMMANDS.map(([, load]) => load()));
  const width = Math.max(...commands.map((command) => command.name.length));
  const lines = commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`);
  return [
    'Usage: orgadmin <command> [options]',
    '',
    'Provision customer organizations into your application database and Auth0 as one durable run.',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `orgadmin <command> --help` for a command’s options. Configuration is read from the environment;',
    'see the README’s configuration table.',
  ].join('\n');
}

/**
 * The one place errors become terminal output and exit codes: 2 for bad input (nothing was done), 1 for everything
 * else. Spec problems are listed one per line with their field paths.
 */
function reportError(command: string, error: unknown): number {
  if (error instanceof OrgadminError) {
    process.stderr.write(`orgadmin ${command}: ${ERROR_CODES[error.code]}\n`);
    for (const issue of error.details.issues ?? [])
      process.stderr.write(`  ${issue.path}: ${issue.message}\n`);
    if (!error.details.issues?.length) process.stderr.write(`  ${error.message}\n`);
    return error.code.startsWith('spec.') || error.code.endsWith('.invalid') ? 2 : 1;
  }
  if (error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`orgadmin ${command}: ${error.message}\n`);
    return 2;
  }
  process.stderr.write(`orgadmin ${command}: ${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${await usage()}\n`);
    return name === undefined ? 1 : 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write('orgadmin 0.1.0\n');
    return 0;
  }
  const load = COMMANDS.find(([candidate]) => candidate === name)?.[1];
  if (!load) {
    process.stderr.write(`orgadmin: unknown command "${name}"\n\n${await usage()}\n`);
    return 2;
  }
  try {
    return await (await load()).run(rest);
  } catch (error) {
    return reportError(name, error);
  }
}
