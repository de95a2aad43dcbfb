/**
 * The two guards of a destructive dialog (removing an organization, rolling back): the prompt to sign in again when
 * the server wants a fresh sign-in, and the field where the operator types what the action concerns to confirm it.
 */
import { useId, type ReactNode } from 'react';

import { loginUrl } from '../api.js';

/** "Sign in again to …", coming back to `returnTo` (which reopens the dialog). */
export function FreshSignInNeeded({
  children,
  action,
  returnTo,
  onClose,
}: {
  /** Why, in a sentence. */
  children: ReactNode;
  /** The button's "Sign in again to <action>". */
  action: string;
  returnTo: string;
  onClose: () => void;
}) {
  return (
    <>
      <p>{children}</p>
      <div className="dialog-actions">
        <button
          type="button"
          className="button-primary"
          onClick={() => window.location.assign(loginUrl(returnTo, true))}
        >
          Sign in again to {action}
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </>
  );
}

/** A text box in which `expected` must be typed exactly before the dialog's action is enabled. */
export function TypedConfirmation({
  label,
  expected,
  value,
  onChange,
  note,
}: {
  label: string;
  expected: string;
  value: string;
  onChange: (value: string) => void;
  /** Said after "Type … exactly." */
  note?: string;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <p className="hint" id={`${id}-hint`}>
        Type <code>{expected}</code> exactly.{note ? ` ${note}` : ''}
      </p>
      <input
        id={id}
        value={value}
        autoComplete="off"
        spellCheck={false}
        aria-describedby={`${id}-hint`}
        onChange={(event) => onChange(event.target.value)}
      />
    </div>
  );
}
