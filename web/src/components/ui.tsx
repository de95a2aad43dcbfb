/** Small shared pieces: status badges (colour AND text), times, error and empty states, paging, filters, copy buttons. */
import { useEffect, useRef, useState, type ReactNode } from 'react';

import type { OrgStatus, RunState, StepStatus } from '../api.js';

const ORG_STATUS_ICON: Record<OrgStatus, string> = {
  active: '●',
  provisioning: '◐',
  failed: '✕',
  removing: '◑',
  removed: '○',
};

export function StatusBadge({ status }: { status: OrgStatus }) {
  return (
    <span className={`badge badge-${status}`}>
      <span aria-hidden="true">{ORG_STATUS_ICON[status]}</span> {status}
    </span>
  );
}

const RUN_STATE_ICON: Record<RunState, string> = {
  pending: '◌',
  running: '◐',
  compensating: '↺',
  succeeded: '✓',
  failed: '✕',
};

export function RunStateBadge({ state }: { state: RunState }) {
  return (
    <span className={`badge badge-run-${state}`}>
      <span aria-hidden="true">{RUN_STATE_ICON[state]}</span> {state}
    </span>
  );
}

export const STEP_STATUS_ICON: Record<StepStatus, string> = {
  pending: '○',
  started: '◐',
  done: '✓',
  failed: '✕',
  skipped: '⤼',
};

const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function formatDateTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTimeFormat.format(date);
}

export function Time({ value }: { value: string | null | undefined }) {
  if (!value) return <span className="muted">—</span>;
  return (
    <time dateTime={value} title={value}>
      {formatDateTime(value)}
    </time>
  );
}

export function shortId(id: string): string {
  return id.length > 8 ? id.slice(0, 8) : id;
}

export function ErrorState({
  title = 'Something went wrong',
  error,
  onRetry,
}: {
  title?: string;
  error: Error;
  onRetry?: () => void;
}) {
  return (
    <div className="callout callout-error" role="alert">
      <p className="callout-title">{title}</p>
      <p>{error.message}</p>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="loading" role="status">
      <span className="spinner" aria-hidden="true" /> {label}
    </p>
  );
}

/** What a list shows instead of a table when it has nothing to show, and what can be done about it. */
export function EmptyState({ title, children }: { title: ReactNode; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children}
    </div>
  );
}

export function Pager({
  page,
  hasPrevious,
  hasNext,
  onPrevious,
  onNext,
  label,
}: {
  page: number;
  hasPrevious: boolean;
  hasNext: boolean;
  onPrevious: () => void;
  onNext: () => void;
  label: string;
}) {
  if (page === 1 && !hasNext) return null;
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" onClick={onPrevious} disabled={!hasPrevious}>
        Previous
      </button>
      <span className="muted">Page {page}</span>
      <button type="button" onClick={onNext} disabled={!hasNext}>
        Next
      </button>
    </nav>
  );
}

/** A labelled filter box above a list; free-text ones get neither autocomplete nor spell checking. */
export function FilterInput({
  id,
  label,
  value,
  onChange,
  type = 'search',
  placeholder,
  grow = false,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  type?: 'search' | 'datetime-local';
  placeholder?: string;
  /** Takes the free width of the filter row. */
  grow?: boolean;
}) {
  const freeText = type === 'search';
  return (
    <div className={grow ? 'field field-grow' : 'field'}>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type={type}
        value={value}
        placeholder={placeholder}
        autoComplete={freeText ? 'off' : undefined}
        spellCheck={freeText ? false : undefined}
        onChange={(event) => onChange(event.target.value)}
      />
    </div>
  );
}

/** A labelled choice among `options` above a list; the empty value, named `allLabel`, filters nothing. */
export function FilterSelect<T extends string>({
  id,
  label,
  value,
  onChange,
  allLabel,
  options,
  optionLabel = (option) => option,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  allLabel: string;
  options: readonly T[];
  optionLabel?: (option: T) => string;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(event) => onChange(event.target.value)}>
        <option value="">{allLabel}</option>
        {options.map((option) => (
          <option key={option} value={option}>
            {optionLabel(option)}
          </option>
        ))}
      </select>
    </div>
  );
}

/** A "Copy" button; `label` names what is copied for screen readers and tests ("Copy ACS URL"). */
export function CopyButton({ value, label, text = 'Copy' }: { value: string; label: string; text?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => () => window.clearTimeout(timer.current), []);

  async function copy(): Promise<void> {
    try {
      await navigator.clipboard.writeText(value);
      setState('copied');
    } catch {
      setState('failed');
    }
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => setState('idle'), 2500);
  }

  return (
    <span className="copy">
      <button type="button" className="button-small" aria-label={label} onClick={() => void copy()}>
        {state === 'copied' ? 'Copied' : text}
      </button>
      <span role="status" className={state === 'failed' ? 'copy-status error-text' : 'visually-hidden'}>
        {state === 'copied'
          ? 'Copied to the clipboard'
          : state === 'failed'
            ? 'Copy failed: select and copy by hand'
            : ''}
      </span>
    </span>
  );
}

export function JsonView({ value, label }: { value: unknown; label: string }) {
  return (
    <pre className="json" tabIndex={0} aria-label={label}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}

export function TableWrap({ children, label }: { children: ReactNode; label: string }) {
  // A focusable, labelled region so keyboard users can scroll wide tables on small screens.
  return (
    <div className="table-wrap" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}
