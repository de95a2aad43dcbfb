/**
 * The naive script (contender 3), as its own process: the obvious hand-written provisioning with the official
 * `auth0` SDK (its default retries on: 2 retries of a 429 or 5xx), `batch` organizations at a time (default 10).
 * For each one: create the database connection (enabled for the shared application), create the organization,
 * enable the connection on it, then add the callback URL to the shared application by reading the client and
 * PATCHing the whole list back — a read-modify-write without a lock, so concurrent additions overwrite each other.
 *
 * Input: the JSON in NAIVE_INPUT. Output: one JSON line on stdout, `{"failed":[names],"errors":[first messages]}`.
 */
import { ManagementClient } from 'auth0';

interface Input {
  domain: string;
  clientId: string;
  clientSecret: string;
  /** Each organization with its callback URL and the client id of its shared application. */
  orgs: { name: string; url: string; clientId: string }[];
  batch: number;
}

const input = JSON.parse(process.env['NAIVE_INPUT'] ?? '{}') as Input;
const api = new ManagementClient({
  domain: input.domain,
  clientId: input.clientId,
  clientSecret: input.clientSecret,
});

async function provision({ name, url, clientId }: Input['orgs'][number]): Promise<void> {
  const connection = await api.connections.create({
    name: `${name}-db`,
    strategy: 'auth0',
    enabled_clients: [clientId],
  });
  const org = await api.organizations.create({ name });
  await api.organizations.enabledConnections.add(org.id!, {
    connection_id: connection.id!,
    assign_membership_on_login: false,
  });
  const client = await api.clients.get(clientId);
  await api.clients.update(clientId, { callbacks: [...(client.callbacks ?? []), url] });
}

const failed: string[] = [];
const errors: string[] = [];
for (let i = 0; i < input.orgs.length; i += input.batch) {
  await Promise.all(
    input.orgs.slice(i, i + input.batch).map(async (org) => {
      try {
        await provision(org);
      } catch (error) {
        failed.push(org.name);
        if (errors.length < 5)
          errors.push(
            `${org.name}: ${(error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').slice(0, 300)}`,
          );
      }
    }),
  );
}
process.stdout.write(`${JSON.stringify({ failed, errors })}\n`);
