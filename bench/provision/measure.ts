/** Turns a contender's wall time, tenant measurement and processes into its result row. */
import { join } from 'node:path';

import type { Child } from './child.js';
import type { TenantMeasurement } from './tenant.js';
import type { BenchContext, ContenderResult } from './types.js';

/** Where a contender's request log goes with `--request-log DIR`. */
export const requestLogFile = (ctx: BenchContext, label: string): string | undefined =>
  ctx.requestLogDir ? join(ctx.requestLogDir, `${label}.jsonl`) : undefined;

const round = (value: number, digits: number): number => Number(value.toFixed(digits));
export const megabytes = (bytes: number): number => round(bytes / (1024 * 1024), 1);

export function result(input: {
  name: string;
  workers: number;
  orgs: number;
  wallSeconds: number;
  measured: TenantMeasurement;
  /** Organizations the contender itself reported as failed (runs not succeeded, errors thrown). */
  reportedFailed: Set<string>;
  processes: Child[];
  notes: string[];
}): ContenderResult {
  const { measured, orgs, wallSeconds } = input;
  const failed = new Set([...input.reportedFailed, ...measured.incomplete]);
  const orgsPerMinute = ((orgs - failed.size) / wallSeconds) * 60;
  const bound = Number.isFinite(measured.bound) ? measured.bound : null;
  const notes = [...input.notes];
  if (failed.size > 0)
    notes.push(
      `${input.name === 'orgadmin' ? `orgadmin ×${input.workers}` : input.name}: ${failed.size} of ${orgs} organizations not provisioned, so its calls/org, list/org and bound describe an incomplete job; orgs/min counts complete organizations only`,
    );
  const peaks = input.processes.map((child) => megabytes(child.peakRssBytes()));
  return {
    name: input.name,
    workers: input.workers,
    wallSeconds: round(wallSeconds, 1),
    orgsPerMinute: round(orgsPerMinute, 1),
    bound: bound === null ? null : round(bound, 1),
    ratioToBound: bound === null ? null : round(orgsPerMinute / bound, 3),
    callsPerOrg: round(measured.calls / orgs, 2),
    listCallsPerOrg: round(measured.listCalls / orgs, 3),
    http429: measured.http429,
    failedOrgs: failed.size,
    lostUrls: measured.missingUrls.length,
    peakRssMb: round(
      peaks.reduce((sum, peak) => sum + peak, 0),
      1,
    ),
    detail: {
      buckets: measured.buckets,
      callsByGroup: measured.callsByGroup,
      rejectedByGroup: measured.rejectedByGroup,
      listBreakdown: measured.listBreakdown,
      processPeakRssMb: peaks,
      notes,
    },
  };
}
