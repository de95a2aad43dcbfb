/**
 * `orgadmin hooks list|add|remove|test`: the application's hook endpoints. A secret is given once (or generated and
 * printed once) and never shown again.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';

import { openOrgadmin } from '../../composition-root.js';
import { loadConfig } from '../../config/config.js';
import { HOOK_PHASES } from '../../domain/app-hooks.js';
import { EVENT_SUBSCRIPTIONS } from '../../domain/lifecycle-events.js';
import { printErr, type Command } from '../command.js';

const HELP = `Usage:
  orgadmin hooks list [--json]
  orgadmin hooks add NAME --url URL [--phases PHASE[,PHASE…]] [--events TYPE[,TYPE…]]
                          (--secret whsec_… | --generate-secret) [--allow-private-network]
  orgadmin hooks remove NAME
  orgadmin hooks test NAME                  send a signed "hook.test" message and show the answer
  orgadmin hooks enable NAME                enable a hook disabled after failed event deliveries

Phases (steps of every run): ${HOOK_PHASES.join(', ')}.
Events (delivered from the outbox, see orgadmin events): ${EVENT_SUBSCRIPTIONS.join(', ')}.
A hook needs at least one phase or event. The wire contract: docs/hooks-and-events.md.
URLs must be https://; --allow-private-network (local development) also allows private addresses and
http:// on 127.0.0.1/localhost. Secrets are Standard Webhooks secrets (whsec_ + base64) and are stored encrypted.
`;

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

const list = (value: string | undefined): string[] =>
  value
    ?.split(',')
    .map((item) => item.trim())
    .filter(Boolean) ?? [];

const actor = (): string => `cli:${process.env['USER'] ?? 'unknown'}`;

export const hooksCommand: Command = {
  name: 'hooks',
  summary: "manage the application's hook endpoints (list, add, remove, test, enable)",
  async run(args) {
    const [sub, ...rest] = args;
    if (
      !sub ||
      sub === '--help' ||
      sub === '-h' ||
      !['list', 'add', 'remove', 'test', 'enable'].includes(sub)
    ) {
      process.stdout.write(HELP);
      return sub === undefined || sub === '--help' || sub === '-h' ? 0 : 2;
    }
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        phases: { type: 'string' },
        events: { type: 'string' },
        secret: { type: 'string' },
        'generate-secret': { type: 'boolean' },
        'allow-private-network': { type: 'boolean' },
        json: { type: 'boolean' },
      },
    });
    const [name] = positionals;
    if (sub !== 'list' && !name) throw new Error(`name the hook: orgadmin hooks ${sub} NAME`);
    const orgadmin = await openOrgadmin(loadConfig(process.env, process.cwd()));
    try {
      const { hooks } = orgadmin;
      switch (sub) {
        case 'list': {
          const list = await hooks.list();
          if (values.json) print(JSON.stringify(list));
          else
            for (const hook of list)
              print(
                `${hook.name.padEnd(20)} ${hook.url}  phases [${hook.phases.join(', ')}]  events [${hook.events.join(', ')}]${hook.allowPrivateNetwork ? '  (private network allowed)' : ''}  secret (set)${hook.disabled ? `  DISABLED since ${hook.disabled.at.toISOString()}: ${hook.disabled.reason}` : ''}`,
              );
          if (!values.json && list.length === 0)
            printErr('no hooks yet: orgadmin hooks add NAME --url … --phases …');
          return 0;
        }
        case 'add': {
          const generated = values['generate-secret']
            ? `whsec_${randomBytes(32).toString('base64')}`
            : undefined;
          const hook = await hooks.add(
            {
              name,
              url: values.url,
              secret: generated ?? values.secret,
              phases: list(values.phases),
              events: list(values.events),
              allowPrivateNetwork: values['allow-private-network'] ?? false,
            },
            actor(),
          );
          printErr(
            `hook ${hook.name} added: ${hook.url} phases [${hook.phases.join(', ')}] events [${hook.events.join(', ')}]`,
          );
          if (generated) {
            printErr('its signing secret (shown this once; configure it in your application):');
            print(generated);
          }
          return 0;
        }
        case 'remove':
          await hooks.remove(name!, actor());
          printErr(`hook ${name} removed`);
          return 0;
        case 'enable':
          await hooks.enable(name!, actor());
          printErr(`hook ${name} enabled: its waiting event deliveries resume`);
          return 0;
        default: {
          const result = await hooks.test(name!);
          if (values.json) print(JSON.stringify(result));
          else
            print(
              result.ok
                ? `ok: ${result.status}`
                : `failed: ${result.status ?? 'no answer'} ${result.detail ?? ''}`,
            );
          return result.ok ? 0 : 1;
        }
      }
    } finally {
      await orgadmin.close();
    }
  },
};
