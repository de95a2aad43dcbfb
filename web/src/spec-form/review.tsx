/** Reviewing a spec: the read-only JSON preview, the plan's steps, and the readable diff of an edit. */
import type { ReactNode } from 'react';

import type { OrgSpec } from '../../../src/domain/org-spec.js';
import type { PlanStep } from '../api.js';
import { CopyButton, TableWrap } from '../components/ui.js';

/** Secrets typed into the form are not echoed in the preview. */
function previewReplacer(key: string, value: unknown): unknown {
  return key === 'clientSecret' && typeof value === 'string' && value !== '(set)'
    ? '(new secret, hidden)'
    : value;
}

export function SpecPreview({ spec }: { spec: unknown }) {
  const json = JSON.stringify(spec, previewReplacer, 2);
  return (
    <details className="preview" open>
      <summary>Spec preview (JSON)</summary>
      <p className="hint">The organization spec this form builds, as the API and the CLI accept it.</p>
      <pre className="json" tabIndex={0} aria-label="Spec being built (JSON)">
        {json}
      </pre>
      <CopyButton value={json} label="Copy spec JSON" />
    </details>
  );
}

/** A spec form beside the live preview of the spec it builds (the create wizard and the editor). */
export function WithSpecPreview({ spec, children }: { spec: unknown; children: ReactNode }) {
  return (
    <div className="with-aside">
      {children}
      <aside aria-label="Spec preview">
        <SpecPreview spec={spec} />
      </aside>
    </div>
  );
}

export function PlanSteps({ steps, label }: { steps: PlanStep[]; label: string }) {
  return (
    <ol className="plan-steps" aria-label={label}>
      {steps.map((step) => (
        <li key={step.key}>
          <span>{step.description}</span> <span className="tag">{step.kind}</span>
        </li>
      ))}
    </ol>
  );
}

export interface DiffRow {
  field: string;
  before: string | undefined;
  after: string | undefined;
}

type Flat = Map<string, string>;

function display(value: unknown): string {
  if (typeof value === 'string')
    return value.length > 160 ? `${value.slice(0, 160)}… (${value.length} characters)` : value;
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value.join(', ');
  return JSON.stringify(value);
}

function flattenInto(out: Flat, prefix: string, value: unknown): void {
  if (value === undefined) return;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      flattenInto(out, prefix === '' ? key : `${prefix}.${key}`, inner);
    }
    return;
  }
  out.set(prefix, display(value));
}

/** Connections keyed by kind (and name, for shared ones), applications by client: reordering is not a change. */
function flatten(spec: OrgSpec | null): Flat {
  const out: Flat = new Map();
  if (!spec) return out;
  for (const [key, value] of Object.entries(spec)) {
    if (key === 'connections' && Array.isArray(value)) {
      for (const entry of spec.connections) {
        if ('shared' in entry) {
          const { shared, ...rest } = entry;
          const prefix = `connections[shared: ${shared}]`;
          out.set(prefix, 'enabled');
          flattenInto(out, prefix, rest);
        } else {
          const kind =
            Object.keys(entry).find(
              (field) => !['domains', 'assignMembershipOnLogin', 'showAsButton'].includes(field),
            ) ?? '?';
          const { [kind]: options, ...rest } = entry as Record<string, unknown>;
          const prefix = `connections[${kind}]`;
          out.set(prefix, 'present');
          flattenInto(out, prefix, options);
          flattenInto(out, prefix, rest);
        }
      }
    } else if (key === 'applications' && Array.isArray(value)) {
      for (const { client, ...rest } of spec.applications) {
        const prefix = `applications[${client}]`;
        out.set(prefix, 'enabled');
        flattenInto(out, prefix, rest);
      }
    } else {
      flattenInto(out, key, value);
    }
  }
  return out;
}

export function diffSpecs(before: OrgSpec | null, after: OrgSpec): DiffRow[] {
  const left = flatten(before);
  const right = flatten(after);
  const fields = [...new Set([...left.keys(), ...right.keys()])];
  return fields
    .filter((field) => left.get(field) !== right.get(field))
    .map((field) => ({ field, before: left.get(field), after: right.get(field) }));
}

export function DiffTable({ rows }: { rows: DiffRow[] }) {
  if (rows.length === 0) return <p className="muted">No field changes.</p>;
  return (
    <TableWrap label="Changed fields">
      <table className="diff">
        <caption className="visually-hidden">Changed fields, before and after</caption>
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">Before</th>
            <th scope="col">After</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.field}>
              <th scope="row">
                <code>{row.field}</code>
              </th>
              <td className="diff-before">{row.before ?? <span className="muted">(none)</span>}</td>
              <td className="diff-after">{row.after ?? <span className="muted">(removed)</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}
