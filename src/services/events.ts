/**
 * Lifecycle events for the faces (CLI, HTTP API, portal): list, one event with its delivery log, and replay.
 */
import { OrgadminError } from '../domain/errors.js';
import type { DeliveryAttempt, EventOutbox, OutboxEvent } from '../ports/events.js';

export interface EventService {
  list(filter: { orgName?: string; beforeId?: string; limit?: number }): Promise<OutboxEvent[]>;
  get(id: string): Promise<OutboxEvent & { attempts: DeliveryAttempt[] }>;
  /** Queues the event again for every hook subscribed to it (or one); `event.not_found` when there is none. */
  replay(id: string, actor: string, hookName?: string): Promise<{ queued: number }>;
}

export function createEventService(outbox: EventOutbox): EventService {
  const get = async (id: string): Promise<OutboxEvent & { attempts: DeliveryAttempt[] }> => {
    const event = await outbox.getEvent(id);
    if (!event) throw new OrgadminError('event.not_found', `No event ${id}.`);
    return event;
  };
  return {
    list: (filter) => outbox.listEvents(filter),
    get,
    async replay(id, actor, hookName) {
      await get(id);
      return { queued: await outbox.replay(id, actor, hookName) };
    },
  };
}
