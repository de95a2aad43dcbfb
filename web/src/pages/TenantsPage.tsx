/** `/tenants` (admins): the tenant registry — where dedicated-tenant organizations live. */
import type { Tenant } from '../api.js';
import { EmptyState, ErrorState, Loading, TableWrap, Time } from '../components/ui.js';
import { useDocumentTitle, useFetch } from '../hooks.js';

export function TenantsPage() {
  useDocumentTitle('Tenants');
  const tenants = useFetch<{ items: Tenant[] }>('/api/v1/tenants');
  return (
    <>
      <h1>Tenants</h1>
      <p className="hint">
        Registered Auth0 tenants. Organizations with the dedicated-tenant isolation model live in one of
        these.
      </p>
      {tenants.error && !tenants.data ? (
        <ErrorState title="The tenants could not be loaded" error={tenants.error} onRetry={tenants.reload} />
      ) : !tenants.data ? (
        <Loading label="Loading tenants…" />
      ) : tenants.data.items.length === 0 ? (
        <EmptyState title="No tenants registered yet">
          <p>
            Register one with <code>orgadmin tenant add NAME --domain D --client-id ID</code>.
          </p>
        </EmptyState>
      ) : (
        <TableWrap label="Tenants table">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Domain</th>
                <th scope="col">Client ID</th>
                <th scope="col">Registered</th>
              </tr>
            </thead>
            <tbody>
              {tenants.data.items.map((tenant) => (
                <tr key={tenant.name}>
                  <td>{tenant.name}</td>
                  <td>
                    <code>{tenant.domain}</code>
                  </td>
                  <td>
                    <code>{tenant.clientId}</code>
                  </td>
                  <td>
                    <Time value={tenant.createdAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
    </>
  );
}
