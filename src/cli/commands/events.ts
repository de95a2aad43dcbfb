/**
 * `orgadmin events`: the lifecycle events of the outbox with their deliveries, one event's delivery log, and replay.
 */
import { parseArgs } from 'node:util';

import { openOrgadmin } from '../../composition-root.js';
import { loadConfig } from '../../config/config.js';
import type { DeliveryView, OutboxEvent } from '../../ports/events.js';
import { printErr, type Command } from '../command.js';

const HELP = `Usage:
  orgadmin events [--org NAME] [--limit N] [--before ID] [--json]   newest first, with each hook's delivery
  orgadmin events --log ID [--json]                                 one event: payload and every attempt
  orgadmin events --replay ID [--hook NAME]                         send it again (same webhook-id)

Events are delivered by \`orgadmin worker\` (and \`orgadmin start\`) to the hooks subscribed to them.
`;

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

const actor = (): string => `cli:${process.env['USER'] ?? 'unknown'}`;

function describeDelivery(delivery: DeliveryView): string {
  if (delivery.state === 'delivered')
    return `${delivery.hookName}: delivered (${delivery.attempts} attempt(s))`;
  const last =
    delivery.attempts === 0
      ? ''
      : `, ${delivery.attempts} attempt(s), last ${delivery.lastStatus ?? ''} ${delivery.lastError ?? ''}`.trimEnd();
  const next = delivery.nextAttemptAt ? `, next ${delivery.nextAttemptAt.toISOString()}` : '';
  return `${delivery.hookName}: pending${last}${next}`;
}

function line(event: OutboxEvent): string {
  const deliveries = event.deliveries.length
    ? event.deliveries.map(describeDelivery).join('; ')
    : 'no subscribed hook';
  return `${event.id.padStart(6)}  ${event.createdAt.toISOString()}  ${event.type.padEnd(21)} ${event.orgName.padEnd(24)} ${deliveries}`;
}

export const eventsCommand: Command = {
  name: 'events',
  summary: 'lifecycle events and their deliveries (--org, --log ID, --replay ID)',
  async run(args) {
    const { values } = parseArgs({
      args,
      strict: true,
      options: {
        org: { type: 'string' },
        limit: { type: 'string' },
        before: { type: 'string' },
        log: { type: 'string' },
        replay: { type: 'string' },
        hook: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const limit = values.limit === undefined ? undefined : Number(values.limit);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 500))
      throw new Error('--limit must be an integer from 1 to 500');
    const orgadmin = await openOrgadmin(loadConfig(process.env, process.cwd()));
    try {
      const { events } = orgadmin;
      if (values.replay !== undefined) {
        const { queued } = await events.replay(values.replay, actor(), values.hook);
        printErr(
          queued === 0
            ? `event ${values.replay}: no hook is subscribed to it${values.hook ? ` named ${values.hook}` : ''}; nothing queued`
            : `event ${values.replay}: queued for ${queued} hook(s); a running worker delivers it`,
        );
        return queued === 0 ? 1 : 0;
      }
      if (values.log !== undefined) {
        const event = await events.get(values.log);
        if (values.json) {
          print(JSON.stringify(event));
          return 0;
        }
        print(line(event));
        print(JSON.stringify(event.payload, null, 2));
        for (const attempt of event.attempts)
          print(
            `  ${attempt.at.toISOString()}  ${attempt.hookName}  ${attempt.status ?? '—'}  ${attempt.durationMs} ms${attempt.error ? `  ${attempt.error}` : ''}`,
          );
        if (event.attempts.length === 0) print('  no attempt yet');
        return 0;
      }
      const list = await events.list({
        ...(values.org ? { orgName: values.org } : {}),
        ...(values.before ? { beforeId: values.before } : {}),
        ...(limit ? { limit } : {}),
      });
      if (values.json) print(JSON.stringify(list));
      else for (const event of list) print(line(event));
      if (!values.json && list.length === 0) printErr('no events yet');
      return 0;
    } finally {
      await orgadmin.close();
    }
  },
};
