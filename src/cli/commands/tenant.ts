/**
 * `orgadmin tenant add|list`: the registry of Auth0 tenants for `isolation: dedicated-tenant`. The client secret is
 * read from an environment variable or standard input — never from argv, where shell history and `ps` would show it —
 * and is stored sealed; `list` shows it only as "(set)".
 */
import { parseArgs } from 'node:util';

import { openOrgadmin } from '../../composition-root.js';
import { loadConfig } from '../../config/config.js';
import { printErr, type Command } from '../command.js';

const HELP = `Usage:
  orgadmin tenant add NAME --domain DOMAIN --client-id ID [--client-secret-env VAR]
                         register a tenant; the secret comes from $VAR (default AUTH0_TENANT_CLIENT_SECRET) or stdin
  orgadmin tenant list [--json]
`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

export const tenantCommand: Command = {
  name: 'tenant',
  summary: 'register and list Auth0 tenants for dedicated-tenant organizations',
  async run(args) {
    const [sub, ...rest] = args;
    if (sub === 'add') {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          domain: { type: 'string' },
          'client-id': { type: 'string' },
          'client-secret-env': { type: 'string', default: 'AUTH0_TENANT_CLIENT_SECRET' },
        },
      });
      const [name] = positionals;
      if (!name || !values.domain || !values['client-id'])
        throw new Error('usage: orgadmin tenant add NAME --domain DOMAIN --client-id ID');
      const clientSecret =
        process.env[values['client-secret-env']] ?? (process.stdin.isTTY ? '' : await readStdin());
      if (!clientSecret)
        throw new Error(`no client secret: set ${values['client-secret-env']} or pipe it on standard input`);
      const orgadmin = await openOrgadmin(loadConfig(process.env, process.cwd()));
      try {
        const tenant = await orgadmin.store.registerTenant(
          { name, domain: values.domain, clientId: values['client-id'], clientSecret },
          `cli:${process.env['USER'] ?? 'unknown'}`,
        );
        printErr(`tenant ${tenant.name} registered (${tenant.domain})`);
        return 0;
      } finally {
        await orgadmin.close();
      }
    }
    if (sub === 'list') {
      const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean' } } });
      const orgadmin = await openOrgadmin(loadConfig(process.env, process.cwd()));
      try {
        const tenants = (await orgadmin.store.listTenants()).map(({ name, domain, clientId, createdAt }) => ({
          name,
          domain,
          clientId,
          clientSecret: '(set)',
          createdAt,
        }));
        if (values.json) process.stdout.write(`${JSON.stringify(tenants)}\n`);
        else
          for (const t of tenants)
            process.stdout.write(`${t.name.padEnd(24)} ${t.domain}  client ${t.clientId}\n`);
        return 0;
      } finally {
        await orgadmin.close();
      }
    }
    process.stdout.write(HELP);
    return sub === undefined || sub === '--help' || sub === '-h' ? 0 : 2;
  },
};
