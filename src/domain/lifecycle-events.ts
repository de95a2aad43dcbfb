/**
 * Lifecycle events (issue 7): what happened to an organization, told to the application through the outbox. Which
 * events a finished run produces, and which subscriptions receive a type, are decided here (pure).
 */
export const EVENT_TYPES = [
  'organization.created',
  'organization.updated',
  'organization.removed',
  'run.succeeded',
  'run.failed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** What a hook may subscribe to: an exact type, every type of a family, or everything. */
export const EVENT_SUBSCRIPTIONS = [...EVENT_TYPES, 'organization.*', 'run.*', '*'] as const;
export type EventSubscription = (typeof EVENT_SUBSCRIPTIONS)[number];

export function subscribes(subscriptions: readonly string[], type: EventType): boolean {
  const family = `${type.slice(0, type.indexOf('.'))}.*`;
  return subscriptions.some((entry) => entry === '*' || entry === type || entry === family);
}

/**
 * The events of a finished run, in the order they are written: what became of the organization first (only when
 * the run succeeded: a failed run changed nothing that stays), then the run's own outcome.
 */
export function eventsOfFinishedRun(run: {
  kind: 'apply' | 'remove';
  state: 'succeeded' | 'failed';
  /** Whether the organization had a spec applied before this run. */
  wasApplied: boolean;
}): EventType[] {
  if (run.state === 'failed') return ['run.failed'];
  const organization: EventType =
    run.kind === 'remove'
      ? 'organization.removed'
      : run.wasApplied
        ? 'organization.updated'
        : 'organization.created';
  return [organization, 'run.succeeded'];
}
