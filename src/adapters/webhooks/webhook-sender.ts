/**
 * Delivers one Standard Webhooks message to an application endpoint: signed with the `standardwebhooks` package
 * (`webhook-id`, `webhook-timestamp`, `webhook-signature`), sent through request-filtering-agent so the address the
 * socket actually connects to is checked (a name that resolves into a private network is refused, DNS rebinding
 * included) unless the hook allows private networks; no redirects are followed; one deadline for the whole
 * exchange, and at most 64 KiB of the answer read.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';
import { Webhook } from 'standardwebhooks';

import type { SendWebhook } from '../../ports/app-hooks.js';

const MAX_ANSWER_BYTES = 64 * 1024;
const DEFAULT_TIMEOUT_MS = 10_000;

const privateAgents = {
  http: new RequestFilteringHttpAgent({ allowPrivateIPAddress: true, allowMetaIPAddress: false }),
  https: new RequestFilteringHttpsAgent({ allowPrivateIPAddress: true, allowMetaIPAddress: false }),
};
const publicAgents = {
  http: new RequestFilteringHttpAgent({ allowPrivateIPAddress: false, allowMetaIPAddress: false }),
  https: new RequestFilteringHttpsAgent({ allowPrivateIPAddress: false, allowMetaIPAddress: false }),
};

export const sendWebhook: SendWebhook = (target, message, options = {}) => {
  const timestamp = options.now?.() ?? new Date();
  const body = JSON.stringify({ type: message.type, timestamp: timestamp.toISOString(), data: message.data });
  const signature = new Webhook(target.secret).sign(message.id, timestamp, body);
  const url = new URL(target.url);
  const secure = url.protocol === 'https:';
  const agents = target.allowPrivateNetwork ? privateAgents : publicAgents;
  const send = secure ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: 'POST',
        agent: secure ? agents.https : agents.http,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'orgadmin-webhooks',
          'webhook-id': message.id,
          'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
          'webhook-signature': signature,
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const answer = (): void => {
          clearTimeout(deadline);
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        };
        response.on('data', (chunk: Buffer) => {
          chunks.push(chunk.subarray(0, MAX_ANSWER_BYTES - size));
          size += Math.min(chunk.length, MAX_ANSWER_BYTES - size);
          // Enough read: the rest of an oversized answer is not waited for.
          if (size >= MAX_ANSWER_BYTES) {
            answer();
            response.destroy();
          }
        });
        response.on('end', answer);
        response.on('error', fail);
      },
    );
    // One deadline for the whole exchange: an endpoint that trickles its answer cannot hold a delivery forever.
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const deadline = setTimeout(
      () => req.destroy(new Error(`no complete answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    function fail(error: Error): void {
      clearTimeout(deadline);
      reject(error);
    }
    req.on('error', fail);
    req.end(body);
  });
};
