/**
 * orgadmin's messages as docs/hooks-and-events.md defines them: `{ type, timestamp, data }`, where `type` is
 * `hook.<phase>` for a run step or `organization.*` / `run.*` for a lifecycle event. Only the fields this app uses
 * are required; other fields are allowed (orgadmin only ever adds fields), and a type the app does not know is
 * `unknown` rather than an error, so a newer orgadmin keeps working with this app.
 */
import { z } from 'zod';

export const HOOK_PHASES = ['before-auth0', 'after-auth0', 'on-remove', 'on-compensate'] as const;
export type HookPhase = (typeof HOOK_PHASES)[number];

export const EVENT_TYPES = [
  'organization.created',
  'organization.updated',
  'organization.removed',
  'run.succeeded',
  'run.failed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

const envelopeSchema = z.object({
  type: z.string().min(1),
  timestamp: z.string(),
  data: z.record(z.string(), z.unknown()),
});

const specSchema = z.looseObject({ displayName: z.string().optional() });
const auth0IdsSchema = z.record(z.string(), z.string());

const hookDataSchema = z.looseObject({
  run: z.looseObject({ id: z.string().min(1) }),
  organization: z.looseObject({
    name: z.string().min(1),
    spec: specSchema,
    auth0Ids: auth0IdsSchema,
  }),
  compensates: z.string().optional(),
});

const eventDataSchema = z.looseObject({
  eventId: z.string().regex(/^\d+$/, 'must be a decimal number in a string'),
  organization: z.looseObject({
    name: z.string().min(1),
    spec: specSchema.optional(),
    auth0Ids: auth0IdsSchema.optional(),
  }),
  run: z.looseObject({ id: z.string(), state: z.string().optional() }).nullable().optional(),
});

export type HookData = z.output<typeof hookDataSchema>;
export type EventData = z.output<typeof eventDataSchema>;

export type Message =
  | { kind: 'hook'; type: string; phase: HookPhase; data: HookData }
  | { kind: 'event'; type: EventType; data: EventData }
  | { kind: 'unknown'; type: string };

/** A body that is not an orgadmin message; its text says which field is wrong and why. */
export class MessageShapeError extends Error {
  override readonly name = 'MessageShapeError';
}

/** The message type, read leniently (for logs and fault matching before the body is validated). */
export function messageType(body: unknown): string | undefined {
  const type = field(body, 'type');
  return typeof type === 'string' ? type : undefined;
}

/** `data.organization.name`, read leniently like `messageType`. */
export function messageOrgName(body: unknown): string | undefined {
  const name = field(field(field(body, 'data'), 'organization'), 'name');
  return typeof name === 'string' ? name : undefined;
}

function field(value: unknown, name: string): unknown {
  return value !== null && typeof value === 'object' && name in value
    ? (value as Record<string, unknown>)[name]
    : undefined;
}

export function parseMessage(body: unknown): Message {
  const envelope = check(envelopeSchema, body, '');
  const { type, data } = envelope;
  const phase = HOOK_PHASES.find((candidate) => type === `hook.${candidate}`);
  if (phase) return { kind: 'hook', type, phase, data: check(hookDataSchema, data, 'data') };
  const event = EVENT_TYPES.find((candidate) => candidate === type);
  if (event) return { kind: 'event', type: event, data: check(eventDataSchema, data, 'data') };
  return { kind: 'unknown', type };
}

/** The display name the app shows: the spec's, else the organization's name. */
export function displayNameOf(organization: { name: string; spec?: { displayName?: string } }): string {
  return organization.spec?.displayName ?? organization.name;
}

function check<T>(schema: z.ZodType<T>, value: unknown, prefix: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    return `${path || 'body'}: ${issue.message}`;
  });
  throw new MessageShapeError(`not an orgadmin message as documented: ${issues.join('; ')}`);
}
