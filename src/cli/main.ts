/**
 * The `orgadmin` command line. This folder is the only place that reads argv, writes to the terminal or decides an
 * exit code; commands return their exit code instead of calling `process.exit`. stdout carries machine-readable
 * output only (e.g. auth0-local's JSON line); everything for humans goes to stderr.
 */
import { auth0LocalCommand } from './commands/auth0-local.js';
import { eventsCommand } from './commands/events.js';
import {
  deployCommand,
  driftCommand,
  gitopsCommand,
  historyCommand,
  rollbackCommand,
} from './commands/gitops.js';
import { hooksCommand } from './commands/hooks.js';
import { orgCommand, runCommand, runsCommand } from './commands/org.js';
import { serveCommand } from './commands/serve.js';
import { startCommand } from './commands/start.js';
import { tenantCommand } from './commands/tenant.js';
import { workerCommand } from './commands/worker.js';
import { ERROR_CODES, OrgadminError } from '../domain/errors.js';
import type { Command } from './command.js';

const COMMANDS: Command[] = [
  startCommand,
  serveCommand,
  orgCommand,
  runsCommand,
  runCommand,
  workerCommand,
  tenantCommand,
  hooksCommand,
  eventsCommand,
  deployCommand,
  rollbackCommand,
  driftCommand,
  historyCommand,
  gitopsCommand,
  auth0LocalCommand,
];

function usage(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  const lines = COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`);
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
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? 1 : 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write('orgadmin 0.1.0\n');
    return 0;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    process.stderr.write(`orgadmin: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    return reportError(name, error);
  }
}
