/**
 * `/hooks` (admins): the application's hook endpoints — the run phases they take part in, the lifecycle events they
 * receive, whether they may reach private networks — with "Send test" (a signed `hook.test` message, and what the
 * endpoint answered) and, for a hook disabled after failed deliveries, "Enable". Secrets are never shown; adding and
 * removing hooks is done with the CLI or the API.
 */
import { useState } from 'react';

import { api, errorMessage, hookPath, type Hook, type HookTestResult } from '../api.js';
import { EmptyState, ErrorState, Loading, TableWrap, Time, formatDateTime } from '../components/ui.js';
import { useDocumentTitle, useFetch } from '../hooks.js';

type TestState = { running: true } | { running: false; result: HookTestResult };

export function HooksPage() {
  useDocumentTitle('Hooks');
  const hooks = useFetch<{ items: Hook[] }>('/api/v1/hooks');
  const [tests, setTests] = useState<Record<string, TestState>>({});
  const [enabling, setEnabling] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  async function sendTest(name: string): Promise<void> {
    setTests((current) => ({ ...current, [name]: { running: true } }));
    setActionError(null);
    try {
      const result = await api.post<HookTestResult>(`${hookPath(name)}/test`);
      setTests((current) => ({ ...current, [name]: { running: false, result } }));
    } catch (failure) {
      setTests((current) => {
        const { [name]: _dropped, ...rest } = current;
        return rest;
      });
      setActionError(`The test of ${name} could not be sent: ${errorMessage(failure)}`);
    }
  }

  async function enable(name: string): Promise<void> {
    setEnabling(name);
    setActionError(null);
    setNotice(null);
    try {
      await api.post<null>(`${hookPath(name)}/enable`);
      setNotice(`${name} is enabled again: its waiting deliveries resume.`);
      hooks.reload();
    } catch (failure) {
      setActionError(`${name} could not be enabled: ${errorMessage(failure)}`);
    } finally {
      setEnabling(null);
    }
  }

  return (
    <>
      <h1>Hooks</h1>
      <p className="hint">
        Endpoints of your application: they take part in runs (phases) and receive lifecycle events, signed
        per Standard Webhooks. Add and remove them with <code>orgadmin hooks</code> or the API; the wire
        contract is in <code>docs/hooks-and-events.md</code>.
      </p>
      <div role="status">{notice && <p className="callout callout-success">{notice}</p>}</div>
      {actionError && (
        <p className="callout callout-error" role="alert">
          {actionError}
        </p>
      )}
      {hooks.error && !hooks.data ? (
        <ErrorState title="The hooks could not be loaded" error={hooks.error} onRetry={hooks.reload} />
      ) : !hooks.data ? (
        <Loading label="Loading hooks…" />
      ) : hooks.data.items.length === 0 ? (
        <EmptyState title="No hooks yet">
          <p>
            Add one with{' '}
            <code>
              orgadmin hooks add NAME --url https://app.example.com/orgadmin --phases before-auth0,after-auth0
              --events &apos;*&apos; --generate-secret
            </code>
            .
          </p>
        </EmptyState>
      ) : (
        <TableWrap label="Hooks table">
          <table>
            <caption className="visually-hidden">The application&apos;s hooks</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">URL</th>
                <th scope="col">Phases</th>
                <th scope="col">Events</th>
                <th scope="col">Private network</th>
                <th scope="col">Secret</th>
                <th scope="col">Status</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {hooks.data.items.map((hook) => (
                <tr key={hook.name} className={hook.disabled ? 'row-failed' : undefined}>
                  <td>
                    <strong>{hook.name}</strong>
                    <p className="small muted">
                      added by {hook.createdBy}, <Time value={hook.createdAt} />
                    </p>
                  </td>
                  <td className="cell-url">
                    <code>{hook.url}</code>
                  </td>
                  <td>
                    <Names values={hook.phases} none="no phase" />
                  </td>
                  <td>
                    <Names values={hook.events} none="no events" />
                  </td>
                  <td>{hook.allowPrivateNetwork ? 'allowed' : 'not allowed'}</td>
                  <td>
                    <span className="muted">{hook.secret}</span>
                  </td>
                  <td>
                    {hook.disabled ? (
                      <span className="badge badge-hook-disabled">
                        <span aria-hidden="true">○</span> Disabled since {formatDateTime(hook.disabled.at)} —{' '}
                        {hook.disabled.reason}
                      </span>
                    ) : (
                      <span className="badge badge-hook-active">
                        <span aria-hidden="true">●</span> active
                      </span>
                    )}
                  </td>
                  <td className="cell-actions">
                    <div className="row-actions">
                      <button
                        type="button"
                        className="button-small"
                        aria-label={`Send test to ${hook.name}`}
                        disabled={tests[hook.name]?.running === true}
                        onClick={() => void sendTest(hook.name)}
                      >
                        Send test
                      </button>
                      {hook.disabled && (
                        <button
                          type="button"
                          className="button-small"
                          aria-label={`Enable ${hook.name}`}
                          disabled={enabling !== null}
                          onClick={() => void enable(hook.name)}
                        >
                          Enable
                        </button>
                      )}
                    </div>
                    <TestOutcome state={tests[hook.name]} />
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

function Names({ values, none }: { values: readonly string[]; none: string }) {
  if (values.length === 0) return <span className="muted">{none}</span>;
  return (
    <ul className="names">
      {values.map((value) => (
        <li key={value}>
          <code>{value}</code>
        </li>
      ))}
    </ul>
  );
}

/** What the endpoint answered the test message, announced to screen readers. */
function TestOutcome({ state }: { state: TestState | undefined }) {
  if (!state) return <p role="status" className="test-outcome" />;
  if (state.running) {
    return (
      <p role="status" className="test-outcome">
        Sending…
      </p>
    );
  }
  const { ok, status, detail } = state.result;
  const answer = status === null ? 'no answer' : `HTTP ${status}`;
  return (
    <p role="status" className={`test-outcome ${ok ? 'test-ok' : 'test-failed'}`}>
      <span aria-hidden="true">{ok ? '✓' : '✕'}</span> Test {ok ? 'ok' : 'failed'} ({answer})
      {!ok && detail ? `: ${detail}` : ''}
    </p>
  );
}
