/**
 * State of a spec form (wizard or editor): the form, the spec it builds, the schema's issues (shown per field once
 * touched, or for a whole step once the operator tried to move on) and the server's `spec.invalid` issues (shown
 * while the field still holds the value the server rejected).
 */
import { useCallback, useMemo, useState } from 'react';

import type { SpecIssue } from '../api.js';
import type { IssueLookup } from './fields.js';
import { isAtOrUnder, specFromForm, stepOfPath, validateSpec, valueAtPath, type FormState } from './model.js';

interface ServerIssue {
  issue: SpecIssue;
  /** JSON of the value at the issue's path when the server rejected it. */
  snapshot: string | undefined;
}

export interface SpecFormState {
  form: FormState;
  setForm: (update: (form: FormState) => FormState) => void;
  spec: Record<string, unknown>;
  /** Every issue the schema finds now, shown or not. */
  clientIssues: SpecIssue[];
  /** The issues shown now (touched or revealed fields, and the server's still-current ones). */
  visibleIssues: SpecIssue[];
  lookup: IssueLookup;
  /** Shows every issue of a wizard step (or of all of them). */
  reveal: (step: number | 'all') => void;
  /** The server's issues about `submitted` (the spec that was sent). */
  setServerIssues: (issues: SpecIssue[], submitted: unknown) => void;
}

const snapshotOf = (spec: unknown, path: string): string | undefined =>
  JSON.stringify(valueAtPath(spec, path));

export function useSpecForm(initial: () => FormState): SpecFormState {
  const [form, setFormState] = useState(initial);
  const [touched, setTouched] = useState<ReadonlySet<string>>(() => new Set());
  const [revealed, setRevealed] = useState<ReadonlySet<number | 'all'>>(() => new Set());
  const [serverIssues, setServerIssueState] = useState<ServerIssue[]>([]);

  const spec = useMemo(() => specFromForm(form), [form]);
  const clientIssues = useMemo(() => validateSpec(spec), [spec]);

  const visibleIssues = useMemo(() => {
    const shown = clientIssues.filter(
      (issue) =>
        revealed.has('all') ||
        revealed.has(stepOfPath(issue.path)) ||
        [...touched].some((path) => isAtOrUnder(issue.path, path)),
    );
    for (const { issue, snapshot } of serverIssues) {
      if (snapshotOf(spec, issue.path) !== snapshot) continue;
      if (!shown.some((other) => other.path === issue.path && other.message === issue.message))
        shown.push(issue);
    }
    return shown;
  }, [clientIssues, revealed, touched, serverIssues, spec]);

  const touch = useCallback((path: string) => {
    setTouched((current) => (current.has(path) ? current : new Set(current).add(path)));
  }, []);

  const lookup = useMemo<IssueLookup>(
    () => ({
      at: (path, exact = false) => [
        ...new Set(
          visibleIssues
            .filter((issue) => (exact ? issue.path === path : isAtOrUnder(issue.path, path)))
            .map((issue) => issue.message),
        ),
      ],
      touch,
    }),
    [visibleIssues, touch],
  );

  const setForm = useCallback((update: (form: FormState) => FormState) => setFormState(update), []);
  const reveal = useCallback((step: number | 'all') => {
    setRevealed((current) => (current.has(step) ? current : new Set(current).add(step)));
  }, []);
  const setServerIssues = useCallback(
    (issues: SpecIssue[], submitted: unknown) =>
      setServerIssueState(issues.map((issue) => ({ issue, snapshot: snapshotOf(submitted, issue.path) }))),
    [],
  );

  return { form, setForm, spec, clientIssues, visibleIssues, lookup, reveal, setServerIssues };
}
