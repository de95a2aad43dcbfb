/**
 * Labelled form controls that show the spec issues of their field path. Which issues are visible comes from the
 * `IssuesContext`: the schema's issues for a field once it has been touched (or after "Next"/"Review" was pressed),
 * and the server's issues as long as the field still holds the value the server rejected.
 */
import {
  createContext,
  use,
  useEffect,
  useId,
  useRef,
  type ChangeEvent,
  type ReactNode,
  type Ref,
} from 'react';

export interface IssueLookup {
  /** Messages for the field at `path` (and, unless `exact`, for anything inside it, e.g. `domains[2]`). */
  at: (path: string, exact?: boolean) => string[];
  /** Marks a field as touched: its schema issues are shown from now on. */
  touch: (path: string) => void;
}

const noIssues: IssueLookup = { at: () => [], touch: () => undefined };

export const IssuesContext = createContext<IssueLookup>(noIssues);

export const useIssues = (): IssueLookup => use(IssuesContext);

export function idFor(path: string): string {
  return `field-${path.replace(/[^A-Za-z0-9_-]/g, '-')}`;
}

/** Focuses the control of `path`, or of the nearest enclosing path that has one (`domains[2]` → `domains`). */
export function focusField(path: string): boolean {
  let current = path;
  for (;;) {
    const element = document.getElementById(idFor(current));
    if (element) {
      element.focus();
      return true;
    }
    const shorter = current.replace(/(\.[^.[\]]+|\[\d+\])$/, '');
    if (shorter === current || shorter === '') return false;
    current = shorter;
  }
}

export function FieldIssues({ id, messages }: { id: string; messages: string[] }) {
  if (messages.length === 0) return null;
  return (
    <ul className="field-error" id={id}>
      {messages.map((message) => (
        <li key={message}>{message}</li>
      ))}
    </ul>
  );
}

interface FieldProps {
  /** The spec path of the value (`connections[0].saml.metadataUrl`): its issues are shown under the field. */
  path: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  hint?: ReactNode;
  placeholder?: string;
  disabled?: boolean;
  required?: boolean;
  /** Show the field's issues from the first keystroke (default: once typing pauses). */
  validateWhileTyping?: boolean;
  /** Also show issues of paths inside this one (lists: `domains[1]`). */
  includeNested?: boolean;
}

/**
 * Validation as you type: a text field's issues appear once typing pauses. (Not on blur: a message appearing on
 * blur shifts the layout under the pointer, and the click on "Next" that caused the blur would miss its button.)
 */
function useTouchWhenTypingPauses(issues: IssueLookup, path: string): () => void {
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => () => window.clearTimeout(timer.current), []);
  return () => {
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => issues.touch(path), 600);
  };
}

interface FieldIds {
  id: string;
  hintId: string;
  errorId: string;
  /** The ids of the hint and of the issues, those on screen; undefined when neither is. */
  describedBy: string | undefined;
}

function fieldIds(base: string, hint: ReactNode, messages: string[]): FieldIds {
  const hintId = `${base}-hint`;
  const errorId = `${base}-error`;
  const describedBy = [hint ? hintId : null, messages.length > 0 ? errorId : null].filter(Boolean).join(' ');
  return { id: base, hintId, errorId, describedBy: describedBy === '' ? undefined : describedBy };
}

function FieldHint({ id, hint }: { id: string; hint: ReactNode }) {
  if (!hint) return null;
  return (
    <p className="hint" id={id}>
      {hint}
    </p>
  );
}

/** A text control's frame: its label (marked when required), hint and issues around it. */
function TextFrame({
  ids,
  label,
  required,
  hint,
  messages,
  children,
}: {
  ids: FieldIds;
  label: string;
  required: boolean | undefined;
  hint: ReactNode;
  messages: string[];
  children: ReactNode;
}) {
  return (
    <div className="field">
      <div className="label-row">
        <label htmlFor={ids.id}>{label}</label>
        {required && <span className="required">Required</span>}
      </div>
      <FieldHint id={ids.hintId} hint={hint} />
      {children}
      <FieldIssues id={ids.errorId} messages={messages} />
    </div>
  );
}

export function TextField({
  path,
  label,
  value,
  onChange,
  hint,
  placeholder,
  disabled,
  required,
  validateWhileTyping,
  includeNested = true,
  type = 'text',
  autoComplete,
  spellCheck,
}: FieldProps & {
  type?: 'text' | 'email' | 'url' | 'password';
  autoComplete?: string;
  spellCheck?: boolean;
}) {
  const issues = useIssues();
  const messages = issues.at(path, !includeNested);
  const ids = fieldIds(idFor(path), hint, messages);
  const touchSoon = useTouchWhenTypingPauses(issues, path);
  return (
    <TextFrame ids={ids} label={label} required={required && !disabled} hint={hint} messages={messages}>
      <input
        id={ids.id}
        type={type}
        value={value}
        placeholder={placeholder}
        disabled={disabled}
        autoComplete={autoComplete ?? 'off'}
        spellCheck={spellCheck ?? false}
        aria-required={required || undefined}
        aria-invalid={messages.length > 0 || undefined}
        aria-describedby={ids.describedBy}
        onChange={(event: ChangeEvent<HTMLInputElement>) => {
          onChange(event.target.value);
          if (validateWhileTyping) issues.touch(path);
          else touchSoon();
        }}
      />
    </TextFrame>
  );
}

export function TextArea({
  path,
  label,
  value,
  onChange,
  hint,
  placeholder,
  rows = 3,
  required,
}: FieldProps & { rows?: number }) {
  const issues = useIssues();
  const messages = issues.at(path);
  const ids = fieldIds(idFor(path), hint, messages);
  const touchSoon = useTouchWhenTypingPauses(issues, path);
  return (
    <TextFrame ids={ids} label={label} required={required} hint={hint} messages={messages}>
      <textarea
        id={ids.id}
        value={value}
        rows={rows}
        placeholder={placeholder}
        spellCheck={false}
        aria-required={required || undefined}
        aria-invalid={messages.length > 0 || undefined}
        aria-describedby={ids.describedBy}
        onChange={(event) => {
          onChange(event.target.value);
          touchSoon();
        }}
      />
    </TextFrame>
  );
}

export function SelectField<T extends string>({
  path,
  label,
  value,
  onChange,
  options,
  hint,
}: {
  path: string;
  label: string;
  value: T;
  onChange: (value: T) => void;
  options: { value: T; label: string; disabled?: boolean }[];
  hint?: ReactNode;
}) {
  const issues = useIssues();
  const messages = issues.at(path);
  const ids = fieldIds(idFor(path), hint, messages);
  return (
    <div className="field">
      <label htmlFor={ids.id}>{label}</label>
      <FieldHint id={ids.hintId} hint={hint} />
      <select
        id={ids.id}
        value={value}
        aria-invalid={messages.length > 0 || undefined}
        aria-describedby={ids.describedBy}
        onChange={(event) => {
          onChange(event.target.value as T);
          issues.touch(path);
        }}
      >
        {options.map((option) => (
          <option key={option.value} value={option.value} disabled={option.disabled}>
            {option.label}
          </option>
        ))}
      </select>
      <FieldIssues id={ids.errorId} messages={messages} />
    </div>
  );
}

export function Checkbox({
  path,
  label,
  checked,
  onChange,
  hint,
}: {
  path: string;
  label: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
  hint?: ReactNode;
}) {
  const issues = useIssues();
  const messages = issues.at(path);
  const ids = fieldIds(useId(), hint, messages);
  return (
    <div className="check">
      <input
        type="checkbox"
        id={ids.id}
        checked={checked}
        aria-invalid={messages.length > 0 || undefined}
        aria-describedby={ids.describedBy}
        onChange={(event) => {
          onChange(event.target.checked);
          issues.touch(path);
        }}
      />
      <div>
        <label htmlFor={ids.id}>{label}</label>
        <FieldHint id={ids.hintId} hint={hint} />
        <FieldIssues id={ids.errorId} messages={messages} />
      </div>
    </div>
  );
}

export function RadioGroup<T extends string>({
  path,
  legend,
  name,
  value,
  onChange,
  options,
  disabled,
}: {
  path: string;
  legend: string;
  name: string;
  value: T;
  onChange: (value: T) => void;
  options: { value: T; label: string; description?: ReactNode }[];
  disabled?: boolean;
}) {
  const issues = useIssues();
  const messages = issues.at(path);
  const base = useId();
  const errorId = `${base}-error`;
  return (
    <fieldset
      className="radio-group"
      id={idFor(path)}
      tabIndex={-1}
      aria-describedby={messages.length > 0 ? errorId : undefined}
      disabled={disabled}
    >
      <legend>{legend}</legend>
      {options.map((option) => {
        const id = `${base}-${option.value}`;
        return (
          <div className="check" key={option.value}>
            <input
              type="radio"
              id={id}
              name={name}
              value={option.value}
              checked={value === option.value}
              aria-describedby={option.description ? `${id}-description` : undefined}
              onChange={() => {
                onChange(option.value);
                issues.touch(path);
              }}
            />
            <div>
              <label htmlFor={id}>{option.label}</label>
              {option.description && (
                <p className="hint" id={`${id}-description`}>
                  {option.description}
                </p>
              )}
            </div>
          </div>
        );
      })}
      <FieldIssues id={errorId} messages={messages} />
    </fieldset>
  );
}

/** The list of every visible issue, at the top of a form or step, each linking to its field when there is one. */
export function IssueSummary({
  issues,
  title,
  summaryRef,
  renderAction,
}: {
  issues: { path: string; message: string }[];
  title: string;
  summaryRef?: Ref<HTMLDivElement>;
  renderAction?: (path: string) => ReactNode;
}) {
  if (issues.length === 0) return null;
  return (
    <div className="callout callout-error" role="alert" tabIndex={-1} ref={summaryRef}>
      <p className="callout-title">{title}</p>
      <ul>
        {issues.map((issue) => (
          <li key={`${issue.path}: ${issue.message}`}>
            <a
              href={`#${idFor(issue.path)}`}
              onClick={(event) => {
                if (focusField(issue.path)) event.preventDefault();
              }}
            >
              <code>{issue.path}</code>
            </a>
            : {issue.message} {renderAction?.(issue.path)}
          </li>
        ))}
      </ul>
    </div>
  );
}
