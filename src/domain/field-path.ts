/**
 * Field paths as orgadmin shows them. A module of its own, free of imports, so that the portal's browser bundle can
 * format paths exactly as the server does without pulling in the spec reader (and its YAML parser).
 */

/** `connections[2].saml.metadataUrl` from zod's `['connections', 2, 'saml', 'metadataUrl']`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out === '' ? '(spec)' : out;
}
