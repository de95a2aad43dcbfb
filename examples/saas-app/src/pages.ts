/**
 * The app's HTML pages. Every value that comes from outside (organization names and display names from specs, claims
 * from tokens, error texts from Auth0) goes through `escapeHtml`.
 */
import type { AppOrganization } from './app-database.js';

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const STYLE = `
  body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #1b1f24; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 0.4rem 0.6rem; border-bottom: 1px solid #d0d7de; }
  code { font-size: 0.9em; }
  .ready { color: #1a7f37; } .provisioning { color: #9a6700; }
`;

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)} · SaaS App</title><style>${STYLE}</style></head>
<body><main>
${body}
</main></body>
</html>`;
}

export function organizationsPage(organizations: AppOrganization[], loginConfigured: boolean): string {
  const rows = organizations.map((org) => {
    const signIn =
      org.state === 'ready' && org.auth0OrgId && loginConfigured
        ? `<a href="/login?organization=${encodeURIComponent(org.orgName)}">Sign in</a>`
        : '';
    return `<tr>
  <td>${escapeHtml(org.displayName)}<br><code>${escapeHtml(org.orgName)}</code></td>
  <td><code>${escapeHtml(org.appOrgId)}</code></td>
  <td class="${org.state}">${escapeHtml(org.state)}</td>
  <td><code>${escapeHtml(org.auth0OrgId ?? '—')}</code></td>
  <td>${signIn}</td>
</tr>`;
  });
  const table =
    rows.length > 0
      ? `<table>
<thead><tr><th>Organization</th><th>App id</th><th>State</th><th>Auth0 organization</th><th></th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`
      : '<p>No organizations yet. Apply one with <code>npx orgadmin org apply -f acme.yaml</code>.</p>';
  const note = loginConfigured
    ? ''
    : '<p>Organization login is not configured (no Auth0 application yet), so there are no sign-in links.</p>';
  return layout(
    'Organizations',
    `<h1>SaaS App — organizations</h1>
<p>Rows are written by orgadmin's hooks and lifecycle events.</p>
${table}
${note}`,
  );
}

export function signedInPage(displayName: string, email: string): string {
  return layout(
    'Signed in',
    `<h1>Signed in to ${escapeHtml(displayName)} as ${escapeHtml(email)}</h1>
<p><a href="/">All organizations</a></p>`,
  );
}

export function messagePage(title: string, text: string): string {
  return layout(
    title,
    `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(text)}</p>\n<p><a href="/">Back</a></p>`,
  );
}
