/**
 * `/api/v1/docs`: a readable page rendered on the server from the OpenAPI document (no script, no CDN: the portal
 * may run where the Internet is out of reach). Tools that want more load `/api/v1/openapi.json` themselves.
 */
import { PERMISSIONS } from '../domain/roles.js';

type Json = Record<string, unknown>;

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

const escape = (text: string): string => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
const ROLE_OF: Record<string, string> = { public: 'anyone', ...PERMISSIONS };

export function apiDocsPage(document: Json): string {
  const info = document['info'] as { title: string; version: string; description: string };
  const paths = document['paths'] as Record<string, Record<string, Json>>;
  const sections: string[] = [];
  for (const [path, operations] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const parameters = ((operation['parameters'] as Json[] | undefined) ?? [])
        .map(
          (parameter) =>
            `<code>${escape(String(parameter['name']))}</code> (${escape(String(parameter['in']))})`,
        )
        .join(', ');
      const statuses = Object.keys(operation['responses'] as Json).join(', ');
      sections.push(
        `<section id="${escape(String(operation['operationId']))}"><h2><span class="method">${method.toUpperCase()}</span> <code>${escape(path)}</code></h2>` +
          `<p>${escape(text(operation['summary']))}</p>` +
          (operation['description'] ? `<p>${escape(text(operation['description']))}</p>` : '') +
          `<dl><dt>Role</dt><dd>${escape(ROLE_OF[String(operation['x-orgadmin-permission'])] ?? '?')}${operation['x-orgadmin-fresh-sign-in'] ? ' (with a recent sign-in)' : ''}</dd>` +
          (parameters ? `<dt>Parameters</dt><dd>${parameters}</dd>` : '') +
          (operation['requestBody'] ? '<dt>Body</dt><dd>JSON (schema in openapi.json)</dd>' : '') +
          `<dt>Responses</dt><dd>${escape(statuses)}</dd></dl></section>`,
      );
    }
  }
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(info.title)} ${escape(info.version)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1d2433}
section{border-top:1px solid #d9dee8;padding:.5rem 0}h2{font-size:1.05rem}.method{display:inline-block;min-width:4rem;font-weight:700;color:#0b5cad}
dl{display:grid;grid-template-columns:8rem 1fr;gap:.25rem 1rem}dt{font-weight:600}code{background:#f3f5f9;padding:0 .25rem;border-radius:3px}</style></head>
<body><main><h1>${escape(info.title)} <small>${escape(info.version)}</small></h1><p>${escape(info.description)}</p>
<p>Machine-readable: <a href="openapi.json">openapi.json</a> (OpenAPI 3.1). Errors are <code>{code, message, details}</code>.</p>
${sections.join('\n')}</main></body></html>`;
}
