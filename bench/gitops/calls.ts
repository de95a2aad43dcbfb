/**
 * What a contender asked of the Management API, from auth0-local's request log: calls (429s included), writes,
 * 429s, admitted calls per method and endpoint group, and the least time the admitted calls need under the profile's
 * buckets at Auth0's own rates (time scale 1).
 *
 * auth0-local keeps at most 200,000 log entries and halves the log when it overflows, so the benchmark clears it
 * before each contender and `watchCalls` reports whether it ever shrank (then the counts are lower bounds).
 */
import type { RequestLogEntry } from '../../auth0-local/index.js';
import { bucketFor, RATE_LIMIT_PROFILES } from '../../auth0-local/rate-limits.js';
import type { Local } from '../provision/tenant.js';

const MANAGEMENT_API = '/api/v2';

export interface CallSummary {
  /** Management API requests, 429s included (the token endpoint excluded). */
  calls: number;
  /** Requests other than GET, 429s included. */
  writeCalls: number;
  http429: number;
  /** Admitted calls by method and auth0-local's endpoint group, e.g. `GET organization-connections:read`. */
  byGroup: Record<string, number>;
  /** 429s by method and endpoint group. */
  rejectedByGroup: Record<string, number>;
  /**
   * The least time, in seconds, the admitted calls take under the profile at time scale 1 (real Auth0 rates),
   * starting with full buckets: the largest over the limited buckets of (calls − burst) ÷ rate.
   */
  floorSecondsAtScale1: number;
  /** Distinct objects written, by `METHOD path-template` (ids as `{id}`), e.g. `PATCH /organizations/{id}`. */
  written: Record<string, number>;
  /** Each call as `METHOD path status`, in order. */
  lines: string[];
}

/** auth0-local's object ids: `org_…`, `con_…` and the like, or a 32-character client id. */
const ID_SEGMENT = /^([a-z]{2,4}_[A-Za-z0-9]{8,}|[A-Za-z0-9]{32})$/;
const template = (path: string): string =>
  path
    .slice(MANAGEMENT_API.length)
    .split('/')
    .map((segment) => (ID_SEGMENT.test(segment) ? '{id}' : segment))
    .join('/');

export function managementCalls(local: Local): RequestLogEntry[] {
  return local.requestLog
    .list({ tenant: local.name })
    .filter((entry) => entry.path.startsWith(`${MANAGEMENT_API}/`));
}

export function summarize(entries: RequestLogEntry[], profile: string): CallSummary {
  const byGroup: Record<string, number> = {};
  const rejectedByGroup: Record<string, number> = {};
  const perBucket = new Map<string, number>();
  let admitted = 0;
  for (const entry of entries) {
    const bucket = bucketFor(entry.method, entry.path.slice(MANAGEMENT_API.length));
    const key = `${entry.method} ${bucket}`;
    if (entry.status === 429) {
      rejectedByGroup[key] = (rejectedByGroup[key] ?? 0) + 1;
      continue;
    }
    admitted += 1;
    byGroup[key] = (byGroup[key] ?? 0) + 1;
    perBucket.set(bucket, (perBucket.get(bucket) ?? 0) + 1);
  }
  const spec = RATE_LIMIT_PROFILES[profile];
  const floors: number[] = [];
  if (spec?.global) floors.push(Math.max(0, admitted - spec.global.burst) / spec.global.perSecond);
  for (const [bucket, used] of perBucket) {
    const limit = (spec?.endpoints as Partial<Record<string, { burst: number; perSecond: number }>>)[bucket];
    if (limit) floors.push(Math.max(0, used - limit.burst) / limit.perSecond);
  }
  const targets = new Map<string, Set<string>>();
  for (const entry of entries) {
    if (entry.method === 'GET' || entry.status === 429 || entry.status >= 400) continue;
    const key = `${entry.method} ${template(entry.path)}`;
    const paths = targets.get(key) ?? new Set<string>();
    paths.add(entry.path);
    targets.set(key, paths);
  }
  return {
    calls: entries.length,
    writeCalls: entries.filter((entry) => entry.method !== 'GET').length,
    http429: entries.filter((entry) => entry.status === 429).length,
    byGroup,
    rejectedByGroup,
    floorSecondsAtScale1: Math.max(0, ...floors),
    written: Object.fromEntries([...targets].map(([key, paths]) => [key, paths.size])),
    lines: entries.map((entry) => `${entry.method} ${entry.path}${entry.query} ${entry.status}`),
  };
}

/**
 * Logs the calls so far every 10 s while a contender runs; `stop()` says whether the request log shrank meanwhile
 * (it overflowed and lost entries).
 */
export function watchCalls(
  local: Local,
  label: string,
  log: (line: string) => void,
): { stop(): { overflowed: boolean } } {
  const started = performance.now();
  let last = 0;
  let overflowed = false;
  const check = (): number => {
    const calls = managementCalls(local);
    if (calls.length < last) overflowed = true;
    last = calls.length;
    return calls.filter((entry) => entry.status === 429).length;
  };
  const timer = setInterval(() => {
    const rejected = check();
    log(
      `${label}: ${last} Management API calls (${rejected} answered 429) after ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
  }, 10_000);
  return {
    stop() {
      clearInterval(timer);
      check();
      return { overflowed };
    },
  };
}
