/**
 * Acceptance 3: the lost-update hazard of whole-array client PATCHes is real on auth0-local, exactly as on Auth0:
 * concurrent uncoordinated read-modify-write callback additions lose entries; the same additions serialized do not.
 */
import { beforeAll, expect, it } from 'vitest';

import { managementClient, useAuth0Local } from '../helpers/auth0-local.js';

const local = useAuth0Local();

beforeAll(() => {
  // A little server-side latency widens the read-modify-write window, as network latency does against Auth0.
  local.faults.add({ method: 'GET', path: '^/api/v2/clients/', latencyMs: 5 });
});

const urls = Array.from({ length: 50 }, (_, i) => `https://tenant-${i}.example.com/callback`);

async function addCallback(
  api: ReturnType<typeof managementClient>,
  clientId: string,
  url: string,
): Promise<void> {
  const client = await api.clients.get(clientId);
  await api.clients.update(clientId, { callbacks: [...(client.callbacks ?? []), url] });
}

it('loses callback URLs when 50 GET+PATCH additions run concurrently', async () => {
  const api = managementClient(local);
  const client = await api.clients.create({ name: 'concurrent-app', app_type: 'regular_web' });
  await Promise.all(urls.map((url) => addCallback(api, client.client_id!, url)));
  const after = (await api.clients.get(client.client_id!)).callbacks ?? [];
  expect(after.length).toBeLessThan(urls.length);
  expect(after.every((url) => urls.includes(url))).toBe(true);
});

it('keeps all 50 callback URLs when the same additions are serialized', async () => {
  const api = managementClient(local);
  const client = await api.clients.create({ name: 'serialized-app', app_type: 'regular_web' });
  for (const url of urls) await addCallback(api, client.client_id!, url);
  expect((await api.clients.get(client.client_id!)).callbacks).toEqual(urls);
});
