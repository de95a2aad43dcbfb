/**
 * The webhook sender's limits: one deadline for the whole exchange (an endpoint that trickles its answer cannot hold
 * a delivery, and so a dispatcher, forever) and at most 64 KiB of an answer read.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { sendWebhook } from '../../../src/adapters/webhooks/webhook-sender.js';

let server: Server;
let base: string;
const timers = new Set<NodeJS.Timeout>();

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    if (request.url === '/trickle') {
      response.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => response.write('.'), 50);
      timers.add(timer);
      response.on('close', () => clearInterval(timer));
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end('x'.repeat(1024 * 1024));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const timer of timers) clearInterval(timer);
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const target = (path: string) => ({
  url: `${base}${path}`,
  secret: `whsec_${Buffer.alloc(32, 3).toString('base64')}`,
  allowPrivateNetwork: true,
});
const message = { id: 'msg_1', type: 'hook.test', data: {} };

describe('the webhook sender', () => {
  it('gives up on an answer that trickles in past its deadline', async () => {
    const started = Date.now();
    await expect(sendWebhook(target('/trickle'), message, { timeoutMs: 400 })).rejects.toThrow(
      'no complete answer within 400 ms',
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('reads at most 64 KiB of an answer', async () => {
    const answer = await sendWebhook(target('/big'), message, { timeoutMs: 5_000 });
    expect(answer.status).toBe(200);
    expect(answer.body.length).toBe(64 * 1024);
  });
});
