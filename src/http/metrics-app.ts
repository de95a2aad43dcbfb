/**
 * `GET /metrics` in Prometheus' text format, for the portal and for `orgadmin worker --metrics-port`: served only
 * when METRICS_TOKEN is configured, and only to a scraper that sends it as a Bearer token.
 */
import { Hono } from 'hono';

import { constantTimeEqual } from './sign-in.js';

export interface MetricsEndpoint {
  token: string;
  render(): Promise<{ contentType: string; body: string }>;
}

export function metricsApp(metrics: MetricsEndpoint | undefined): Hono {
  const app = new Hono();
  app.get('/metrics', async (c) => {
    if (!metrics) return c.text('Metrics are off: set METRICS_TOKEN to serve them.', 404);
    const token = /^Bearer (.+)$/i.exec(c.req.header('authorization') ?? '')?.[1] ?? '';
    if (!constantTimeEqual(token, metrics.token))
      return c.text('Send the METRICS_TOKEN as a Bearer token.', 401, { 'www-authenticate': 'Bearer' });
    const { contentType, body } = await metrics.render();
    return c.body(body, 200, { 'content-type': contentType });
  });
  return app;
}
