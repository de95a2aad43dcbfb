import { describe, expect, it } from 'vitest';

import { eventsOfFinishedRun, subscribes } from './lifecycle-events.js';

describe('lifecycle events', () => {
  it('name what became of the organization before the run outcome, and nothing but the outcome on failure', () => {
    expect(eventsOfFinishedRun({ kind: 'apply', state: 'succeeded', wasApplied: false })).toEqual([
      'organization.created',
      'run.succeeded',
    ]);
    expect(eventsOfFinishedRun({ kind: 'apply', state: 'succeeded', wasApplied: true })).toEqual([
      'organization.updated',
      'run.succeeded',
    ]);
    expect(eventsOfFinishedRun({ kind: 'remove', state: 'succeeded', wasApplied: true })).toEqual([
      'organization.removed',
      'run.succeeded',
    ]);
    expect(eventsOfFinishedRun({ kind: 'apply', state: 'failed', wasApplied: false })).toEqual([
      'run.failed',
    ]);
  });

  it('match exact types, families and everything', () => {
    expect(subscribes(['organization.created'], 'organization.created')).toBe(true);
    expect(subscribes(['organization.created'], 'organization.removed')).toBe(false);
    expect(subscribes(['organization.*'], 'organization.removed')).toBe(true);
    expect(subscribes(['organization.*'], 'run.failed')).toBe(false);
    expect(subscribes(['run.*'], 'run.failed')).toBe(true);
    expect(subscribes(['*'], 'run.succeeded')).toBe(true);
    expect(subscribes([], 'run.succeeded')).toBe(false);
  });
});
