/**
 * An application endpoint for tests: verifies every Standard Webhooks message with the `standardwebhooks` package
 * (401 and not recorded when the signature does not check), records it, and answers as the test says (204 by
 * default). `receivedCount(n)` resolves when n messages arrived, woken by the receiver rather than by polling.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { Webhook } from 'standardwebhooks';

export interface ReceivedMessage {
  /** The `webhook-id` header. */
  id: string;
  type: string;
  data: Record<string, unknown>;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedMessage[];
  receivedCount(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(options: {
  /** The secret to verify with (read at each message, so a test may learn it after starting the receiver). */
  secret: () => string;
  path?: string;
  /** The answer to a verified message; undefined = 204. */
  answer?: (message: ReceivedMessage) => { status: number; json?: unknown } | undefined;
}): Promise<WebhookReceiver> {
  const received: ReceivedMessage[] = [];
  const waiting = new Set<() => void>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      let message: ReceivedMessage;
      try {
        const verified = new Webhook(options.secret()).verify(Buffer.concat(chunks).toString('utf8'), {
          'webhook-id': String(request.headers['webhook-id']),
          'webhook-timestamp': String(request.headers['webhook-timestamp']),
          'webhook-signature': String(request.headers['webhook-signature']),
        }) as { type: string; data: Record<string, unknown> };
        message = { id: String(request.headers['webhook-id']), type: verified.type, data: verified.data };
      } catch {
        response.writeHead(401).end('bad signature');
        return;
      }
      received.push(message);
      const answer = options.answer?.(message);
      if (answer?.json === undefined) response.writeHead(answer?.status ?? 204).end();
      else
        response
          .writeHead(answer.status, { 'content-type': 'application/json' })
          .end(JSON.stringify(answer.json));
      for (const wake of waiting) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${options.path ?? '/orgadmin'}`,
    received,
    receivedCount: (count, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(check);
          reject(new Error(`only ${received.length} of ${count} messages arrived`));
        }, timeoutMs);
        function check(): void {
          if (received.length < count) return;
          clearTimeout(timer);
          waiting.delete(check);
          resolve();
        }
        waiting.add(check);
        check();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
