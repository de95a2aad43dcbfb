/**
 * auth0-local must never be the bottleneck of later benchmarks. This script measures, over HTTPS keep-alive with
 * rate limits off:
 *   1. throughput of a simple Management API read (GET /organizations/{id}) with auth0-local in its own process;
 *   2. the cost of get-by-name and of a checkpoint page as the tenant grows to 100,000 organizations (both should
 *      stay flat: O(1) and O(page)).
 * It prints a table and, as its last stdout line, one JSON object with every figure.
 * Usage: npm run bench:auth0-local -- [--seconds 10] [--concurrency 64] [--orgs 100000]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '64' },
    orgs: { type: 'string', default: '100000' },
  },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const targetOrgs = Number(values.orgs);

interface Info {
  domain: string;
  clientId: string;
  clientSecret: string;
  audience: string;
  caCertPath: string;
}

const child = spawn(
  process.execPath,
  ['bin/orgadmin.js', 'auth0-local', '--port', '0', '--rate-limits', 'unlimited'],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const info = JSON.parse(
  await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', () => reject(new Error('auth0-local exited early')));
  }),
) as Info;
const [host, portText] = info.domain.split(':');
const agent = new Agent({ keepAlive: true, maxSockets: concurrency, ca: readFileSync(info.caCertPath) });

function call(
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        host,
        port: Number(portText),
        method,
        path,
        agent,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(payload
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
            : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, json: text ? (JSON.parse(text) as unknown) : undefined });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const token = (
  (
    await call('POST', '/oauth/token', {
      grant_type: 'client_credentials',
      client_id: info.clientId,
      client_secret: info.clientSecret,
      audience: info.audience,
    })
  ).json as { access_token: string }
).access_token;

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

/** Runs `op` from `concurrency` loops for `durationMs`; returns requests/s and latency percentiles. */
async function load(
  op: () => Promise<void>,
  durationMs: number,
): Promise<{ rps: number; p50: number; p99: number; count: number }> {
  const latencies: number[] = [];
  const deadline = performance.now() + durationMs;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await op();
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    rps: latencies.length / elapsed,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    count: latencies.length,
  };
}

// 1. Throughput of a simple read.
const probe = (await call('POST', '/api/v2/organizations', { name: 'probe' }, token)).json as { id: string };
await load(async () => void (await call('GET', `/api/v2/organizations/${probe.id}`, undefined, token)), 1000); // warm-up
const read = await load(async () => {
  const res = await call('GET', `/api/v2/organizations/${probe.id}`, undefined, token);
  if (res.status !== 200) throw new Error(`unexpected status ${res.status}`);
}, seconds * 1000);

// 2. Growth to targetOrgs organizations, measuring get-by-name and checkpoint pages at each size.
const sizes = [1000, 10_000, 100_000].filter((size) => size <= targetOrgs);
if (!sizes.includes(targetOrgs)) sizes.push(targetOrgs);
let created = 1;
let writeSeconds = 0;
const growth: { orgs: number; byNameMs: number; checkpointPageMs: number }[] = [];
for (const size of sizes) {
  const t0 = performance.now();
  let next = created;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < size) {
        const index = next++;
        const res = await call(
          'POST',
          '/api/v2/organizations',
          { name: `org-${index}`, display_name: `Org ${index}` },
          token,
        );
        if (res.status !== 201) throw new Error(`create org-${index}: ${res.status}`);
      }
    }),
  );
  writeSeconds += (performance.now() - t0) / 1000;
  created = size;
  const samples = 300;
  let t = performance.now();
  for (let i = 0; i < samples; i++) {
    const name = `org-${1 + Math.floor(Math.random() * (size - 1))}`;
    const res = await call('GET', `/api/v2/organizations/name/${name}`, undefined, token);
    if (res.status !== 200) throw new Error(`by name ${name}: ${res.status}`);
  }
  const byNameMs = (performance.now() - t) / samples;
  // Follow the checkpoint chain deep into the list: each page must cost the same wherever it starts.
  let cursor: string | undefined;
  let pages = 0;
  t = performance.now();
  do {
    const res = await call(
      'GET',
      `/api/v2/organizations?take=100${cursor ? `&from=${cursor}` : ''}`,
      undefined,
      token,
    );
    cursor = (res.json as { next?: string }).next;
    pages++;
  } while (cursor && pages < Math.min(300, size / 100));
  const checkpointPageMs = (performance.now() - t) / pages;
  growth.push({ orgs: size, byNameMs, checkpointPageMs });
}

child.kill('SIGTERM');
agent.destroy();

const writeRps = (created - 1) / writeSeconds;
const first = growth[0]!;
const last = growth[growth.length - 1]!;
const result = {
  readRequestsPerSecond: Math.round(read.rps),
  readP50Ms: Number(read.p50.toFixed(2)),
  readP99Ms: Number(read.p99.toFixed(2)),
  target: 2000,
  ratioToTarget: Number((read.rps / 2000).toFixed(2)),
  createRequestsPerSecond: Math.round(writeRps),
  growth: growth.map((g) => ({
    orgs: g.orgs,
    byNameMs: Number(g.byNameMs.toFixed(3)),
    checkpointPageMs: Number(g.checkpointPageMs.toFixed(3)),
  })),
  byNameGrowthRatio: Number((last.byNameMs / first.byNameMs).toFixed(2)),
  checkpointPageGrowthRatio: Number((last.checkpointPageMs / first.checkpointPageMs).toFixed(2)),
};
process.stderr.write(
  [
    `auth0-local over HTTPS keep-alive, ${concurrency} concurrent requests, rate limits off`,
    `  GET /organizations/{id}: ${result.readRequestsPerSecond} req/s (target ≥ 2000, ratio ${result.ratioToTarget}), p50 ${result.readP50Ms} ms, p99 ${result.readP99Ms} ms`,
    `  POST /organizations while growing: ${result.createRequestsPerSecond} req/s`,
    ...growth.map(
      (g) =>
        `  ${String(g.orgs).padStart(7)} orgs: get-by-name ${g.byNameMs.toFixed(3)} ms, checkpoint page (take=100) ${g.checkpointPageMs.toFixed(3)} ms`,
    ),
    `  growth ${first.orgs} → ${last.orgs} orgs: get-by-name ×${result.byNameGrowthRatio}, checkpoint page ×${result.checkpointPageGrowthRatio} (flat ≈ 1)`,
    '',
  ].join('\n'),
);
process.stdout.write(`${JSON.stringify(result)}\n`);
