/**
 * Actions are not modelled by auth0-local; the list exists (always empty) because auth0-deploy-cli reads it to map
 * custom password-hash actions and aborts an import when it is missing. Auth0 answers this list with an object
 * (`{actions, total, page, per_page}`) whatever `include_totals` says.
 */
import { intParam } from '../pagination.js';
import { ok, type ManagementRouter } from '../router.js';

export function registerActionRoutes(r: ManagementRouter): void {
  r.get(
    '/actions/actions',
    ({ query }) =>
      ok({
        actions: [],
        total: 0,
        page: intParam(query, 'page', 0, 1000) ?? 0,
        per_page: intParam(query, 'per_page', 0, 100) ?? 50,
      }),
    { scopes: ['read:actions'] },
  );
}
