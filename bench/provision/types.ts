/** What every contender gets, and what it reports. */
import type { RateProfileName } from '../../src/adapters/auth0/rate-budget.js';
import type { BucketUse, OrgToProvision } from './tenant.js';

export interface BenchContext {
  /** The organizations to provision (`bench-00000` …), each with its shared application and callback URL. */
  orgs: OrgToProvision[];
  /** The shared applications, created in every fresh tenant before the run. */
  apps: string[];
  profile: RateProfileName;
  timeScale: number;
  /** auth0-local's CA and certificate (children trust the CA through NODE_EXTRA_CA_CERTS). */
  tlsDir: string;
  caCertPath: string;
  /** Scratch folder for state folders, directories and config files; deleted at the end. */
  workDir: string;
  /** Superuser URL of the benchmark's embedded PostgreSQL (`postgres` database). */
  postgresUrl: string;
  /** Where to write each contender's Management API calls (`--request-log DIR`), if anywhere. */
  requestLogDir: string | undefined;
  /** Progress, to stderr. */
  log: (line: string) => void;
}

/** The figures of one contender's run; the first twelve fields are the JSON line's. */
export interface ContenderResult {
  name: string;
  workers: number;
  wallSeconds: number;
  orgsPerMinute: number;
  /** Theoretical orgs/minute for the profile and this contender's calls per organization; null if unbounded. */
  bound: number | null;
  ratioToBound: number | null;
  callsPerOrg: number;
  listCallsPerOrg: number;
  http429: number;
  failedOrgs: number;
  lostUrls: number;
  /** Sum over the contender's processes of each one's peak RSS (VmHWM). */
  peakRssMb: number;
  /** Not in the JSON line: for the table and the notes. */
  detail: {
    buckets: BucketUse[];
    callsByGroup: Record<string, number>;
    rejectedByGroup: Record<string, number>;
    listBreakdown: { listGets: number; appGets: number; appPatches: number };
    processPeakRssMb: number[];
    notes: string[];
  };
}
