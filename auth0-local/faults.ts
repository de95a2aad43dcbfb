/**
 * Fault injection and the request log, both for tests: they let a test make auth0-local slow, failing, rate-limited
 * or flaky at the transport level, and then read exactly which calls arrived. Off unless a rule is added.
 */
import { alphanumeric } from './ids.js';

export interface FaultRule {
  id: string;
  /** Only requests to this tenant (by name); any tenant when absent. */
  tenant?: string | undefined;
  /** HTTP method to match (any when absent). */
  method?: string | undefined;
  /** Regular expression matched against the path (e.g. `^/api/v2/organizations`). */
  path?: string | undefined;
  /** Probability in [0, 1] that a matching request is affected (default 1). */
  rate?: number | undefined;
  /** How many more requests the rule may affect; unlimited when absent. */
  times?: number | undefined;
  /** Epoch ms after which the rule no longer applies (a bounded "storm"). */
  until?: number | undefined;
  /** Delay before the request is handled. */
  latencyMs?: number | undefined;
  /** Answer with this status (and Auth0's body for it) without touching state. */
  status?: number | undefined;
  /** Message for the injected error body. */
  message?: string | undefined;
  /** Apply the change, then destroy the connection instead of answering. */
  dropAfterApply?: boolean | undefined;
  /** Apply the change, then wait this long before answering. */
  replyAfterMs?: number | undefined;
}

export interface RequestLogEntry {
  time: string;
  tenant: string;
  method: string;
  path: string;
  query: string;
  status: number;
  durationMs: number;
  fault?: string;
}

export class FaultInjector {
  private rules: FaultRule[] = [];

  add(rule: Omit<FaultRule, 'id'> & { id?: string }): FaultRule {
    if (rule.path !== undefined) new RegExp(rule.path); // reject a bad pattern when it is added, not when it runs
    const stored: FaultRule = { ...rule, id: rule.id ?? `flt_${alphanumeric(12)}` };
    this.rules.push(stored);
    return stored;
  }

  list(): FaultRule[] {
    return [...this.rules];
  }

  remove(id: string): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((rule) => rule.id !== id);
    return this.rules.length < before;
  }

  clear(): void {
    this.rules = [];
  }

  /** The first rule that fires for this request, consuming one of its `times`. */
  match(tenant: string, method: string, path: string, now: number): FaultRule | undefined {
    if (this.rules.length === 0) return undefined;
    for (const rule of this.rules) {
      if (rule.until !== undefined && now > rule.until) continue;
      if (rule.times !== undefined && rule.times <= 0) continue;
      if (rule.tenant !== undefined && rule.tenant !== tenant) continue;
      if (rule.method !== undefined && rule.method.toUpperCase() !== method) continue;
      if (rule.path !== undefined && !new RegExp(rule.path).test(path)) continue;
      if (rule.rate !== undefined && Math.random() >= rule.rate) continue;
      if (rule.times !== undefined) rule.times -= 1;
      return rule;
    }
    return undefined;
  }
}

/** A bounded in-memory log of handled requests, newest last. */
export class RequestLog {
  private entries: RequestLogEntry[] = [];

  constructor(private readonly capacity = 200_000) {}

  push(entry: RequestLogEntry): void {
    this.entries.push(entry);
    if (this.entries.length > this.capacity)
      this.entries = this.entries.slice(-Math.floor(this.capacity / 2));
  }

  list(filter: { tenant?: string | undefined; since?: string | undefined } = {}): RequestLogEntry[] {
    return this.entries.filter(
      (entry) =>
        (filter.tenant === undefined || entry.tenant === filter.tenant) &&
        (filter.since === undefined || entry.time > filter.since),
    );
  }

  clear(): void {
    this.entries = [];
  }
}
