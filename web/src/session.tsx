/**
 * Who is signed in (`GET /api/v1/me`) and what they may do, plus the one shared stream of run changes
 * (`GET /api/v1/events`) that list and organization pages subscribe to for live status badges.
 */
import { createContext, use, useEffect, useRef, type ReactNode } from 'react';

import type { Me, Role, Run } from './api.js';

export interface Session {
  me: Me;
  /** viewer ⊂ operator ⊂ admin: a role includes everything the roles below it may do. */
  isOperator: boolean;
  isAdmin: boolean;
  /** The sign-in is recent enough for destructive actions (removing an organization). */
  recentlyAuthenticated: () => boolean;
  /** Set in GitOps mode (changes are commits, then deployed), null in live mode. */
  gitops: NonNullable<Me['gitops']> | null;
}

export function sessionOf(me: Me): Session {
  const has = (role: Role): boolean => me.roles.includes(role);
  return {
    me,
    isAdmin: has('admin'),
    isOperator: has('operator') || has('admin'),
    recentlyAuthenticated: () =>
      me.reauthenticatedUntil === null || Date.parse(me.reauthenticatedUntil) > Date.now(),
    gitops: me.mode === 'gitops' ? me.gitops : null,
  };
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = use(SessionContext);
  if (!session) throw new Error('useSession outside <SessionContext>');
  return session;
}

type RunListener = (run: Run) => void;

class RunEvents {
  private readonly listeners = new Set<RunListener>();
  private source: EventSource | null = null;

  subscribe(listener: RunListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  open(): void {
    if (this.source) return;
    const source = new EventSource('/api/v1/events');
    source.addEventListener('run', (event: MessageEvent<string>) => {
      let run: Run;
      try {
        run = JSON.parse(event.data) as Run;
      } catch {
        return;
      }
      for (const listener of this.listeners) listener(run);
    });
    this.source = source;
  }

  close(): void {
    this.source?.close();
    this.source = null;
  }
}

const RunEventsContext = createContext<RunEvents | null>(null);

/** Opens the shared `/api/v1/events` stream for the signed-in app (EventSource reconnects by itself). */
export function RunEventsProvider({ children }: { children: ReactNode }) {
  const eventsRef = useRef<RunEvents | null>(null);
  eventsRef.current ??= new RunEvents();
  const events = eventsRef.current;
  useEffect(() => {
    events.open();
    return () => events.close();
  }, [events]);
  return <RunEventsContext value={events}>{children}</RunEventsContext>;
}

/** Calls `listener` (the latest one passed) for every run change. */
export function useRunEvents(listener: RunListener): void {
  const events = use(RunEventsContext);
  const latest = useRef(listener);
  useEffect(() => {
    latest.current = listener;
  });
  useEffect(() => {
    if (!events) return;
    return events.subscribe((run) => latest.current(run));
  }, [events]);
}
