/**
 * What the app does for each orgadmin message. Hooks and events both go through `processOnce`, so the work and the
 * record of its answer commit together and a repeated webhook-id is answered from that record.
 */
import type { Answer, AppDatabase, Changes } from './app-database.js';
import { displayNameOf, MessageShapeError, type Message } from './messages.js';

export interface HandledMessage extends Answer {
  /** True when the webhook-id was processed before and the stored answer was given again. */
  repeated: boolean;
}

export function handleMessage(
  db: AppDatabase,
  webhookId: string,
  message: Message,
  signInUrlFor: (orgName: string) => string,
): Promise<HandledMessage> {
  switch (message.kind) {
    case 'hook':
      return db.processOnce(webhookId, (changes) => applyHook(changes, message, signInUrlFor));
    case 'event':
      return db.processOnce(webhookId, (changes) => applyEvent(changes, webhookId, message));
    case 'unknown':
      // Forward compatible: a message type this app does not know yet (or `hook.test`) is accepted and ignored.
      return Promise.resolve({ status: 200, body: {}, repeated: false });
  }
}

async function applyHook(
  changes: Changes,
  message: Extract<Message, { kind: 'hook' }>,
  signInUrlFor: (orgName: string) => string,
): Promise<Answer> {
  const { organization, run } = message.data;
  switch (message.phase) {
    case 'before-auth0': {
      const appOrgId = await changes.provision(organization.name, displayNameOf(organization), run.id);
      return { status: 200, body: { appOrgId } };
    }
    case 'after-auth0': {
      const auth0OrgId = organization.auth0Ids['organization'];
      if (!auth0OrgId) {
        // Without it nobody could sign in; a 4xx fails the run, which orgadmin then undoes.
        throw new MessageShapeError(
          'data.organization.auth0Ids.organization: missing, but after-auth0 is sent once the Auth0 organization exists',
        );
      }
      const appOrgId = await changes.markReady(
        organization.name,
        displayNameOf(organization),
        auth0OrgId,
        run.id,
      );
      return { status: 200, body: { appOrgId, signInUrl: signInUrlFor(organization.name) } };
    }
    case 'on-compensate':
      await changes.deleteCreatedBy(organization.name, run.id);
      return { status: 200, body: {} };
    case 'on-remove':
      await changes.delete(organization.name);
      return { status: 200, body: {} };
  }
}

async function applyEvent(
  changes: Changes,
  webhookId: string,
  message: Extract<Message, { kind: 'event' }>,
): Promise<Answer> {
  const { data, type } = message;
  const fresh = await changes.recordEvent({
    webhookId,
    eventId: data.eventId,
    type,
    orgName: data.organization.name,
    runState: data.run?.state ?? null,
  });
  if (!fresh) return { status: 200, body: {} };
  if (type === 'organization.removed') await changes.delete(data.organization.name);
  if (type === 'organization.created' || type === 'organization.updated') {
    await changes.syncFromEvent(
      data.organization.name,
      displayNameOf(data.organization),
      data.organization.auth0Ids?.['organization'],
    );
  }
  return { status: 200, body: {} };
}
