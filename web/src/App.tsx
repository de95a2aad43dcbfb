/**
 * The app shell: loads the session (`GET /api/v1/me`; not signed in → the sign-in page), then the layout — header
 * with the product name, the main navigation, the user and "Sign out"; the page of the current route in `<main>`;
 * a footer linking to the API documentation.
 */
import { Suspense, lazy, useEffect, useRef, useState, type ReactNode } from 'react';

import { api, ApiError, redirectToLogin, setCsrfToken, type Me } from './api.js';
import { ErrorState, Loading } from './components/ui.js';
import { PRODUCT_NAME, useDocumentTitle } from './hooks.js';
import { AuditPage } from './pages/AuditPage.js';
import { BatchPage } from './pages/BatchPage.js';
import { BulkApplyPage } from './pages/BulkApplyPage.js';
import { EventDetailPage } from './pages/EventDetailPage.js';
import { EventsPage } from './pages/EventsPage.js';
import { HistoryPage } from './pages/HistoryPage.js';
import { HooksPage } from './pages/HooksPage.js';
import { NotFoundPage } from './pages/NotFoundPage.js';
import { OrgDetailPage } from './pages/OrgDetailPage.js';
import { OrganizationsPage } from './pages/OrganizationsPage.js';
import { RunDetailPage } from './pages/RunDetailPage.js';
import { RunsPage } from './pages/RunsPage.js';
import { TenantsPage } from './pages/TenantsPage.js';
import { Link, matchRoute, navigate, useLocation } from './router.js';
import { RunEventsProvider, SessionContext, sessionOf, useSession, type Session } from './session.js';

// The spec forms carry the spec schema (zod): loaded only when a form is opened.
const OrgCreatePage = lazy(() =>
  import('./pages/OrgCreatePage.js').then((module) => ({ default: module.OrgCreatePage })),
);
const OrgEditPage = lazy(() =>
  import('./pages/OrgEditPage.js').then((module) => ({ default: module.OrgEditPage })),
);

export function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    api.get<Me>('/api/v1/me', controller.signal).then(
      (me) => {
        setCsrfToken(me.csrfToken);
        setSession(sessionOf(me));
      },
      (failure: unknown) => {
        if (controller.signal.aborted) return;
        // 401 already sent the browser to the sign-in page (see api.ts); keep showing "Loading…" meanwhile.
        if (failure instanceof ApiError && failure.status === 401) return;
        setError(failure instanceof Error ? failure : new Error('The session could not be loaded.'));
      },
    );
    return () => controller.abort();
  }, [attempt]);

  if (error) {
    return (
      <main className="boot">
        <h1>{PRODUCT_NAME}</h1>
        <ErrorState
          title="The portal could not start"
          error={error}
          onRetry={() => {
            setError(null);
            setAttempt((value) => value + 1);
          }}
        />
        <p>
          <a href="/auth/login" onClick={() => redirectToLogin()}>
            Sign in
          </a>
        </p>
      </main>
    );
  }
  if (!session) {
    return (
      <main className="boot">
        <Loading label="Loading the portal…" />
      </main>
    );
  }
  return (
    <SessionContext value={session}>
      <RunEventsProvider>
        <Layout>
          <Routes />
        </Layout>
      </RunEventsProvider>
    </SessionContext>
  );
}

function Routes() {
  const { pathname } = useLocation();
  const session = useSession();

  useEffect(() => {
    if (pathname === '/' || pathname === '') navigate('/organizations', { replace: true });
  }, [pathname]);

  if (pathname === '/' || pathname === '') return null;
  if (pathname === '/organizations' || pathname === '/organizations/') return <OrganizationsPage />;
  if (pathname === '/organizations/new') {
    return session.isOperator ? <OrgCreatePage /> : <Forbidden what="create organizations" />;
  }
  let params = matchRoute('/organizations/:name/edit', pathname);
  if (params?.['name']) {
    return session.isOperator ? (
      <OrgEditPage key={params['name']} name={params['name']} />
    ) : (
      <Forbidden what="edit organizations" />
    );
  }
  params = matchRoute('/organizations/:name', pathname);
  if (params?.['name']) return <OrgDetailPage key={params['name']} name={params['name']} />;
  if (pathname === '/runs') return <RunsPage />;
  params = matchRoute('/runs/:id', pathname);
  if (params?.['id']) return <RunDetailPage key={params['id']} id={params['id']} />;
  if (pathname === '/events') return <EventsPage />;
  params = matchRoute('/events/:id', pathname);
  if (params?.['id']) return <EventDetailPage key={params['id']} id={params['id']} />;
  if (pathname === '/bulk-apply') return <BulkApplyPage />;
  params = matchRoute('/bulk-apply/:id', pathname);
  if (params?.['id']) return <BatchPage key={params['id']} id={params['id']} />;
  if (pathname === '/audit') return <AuditPage />;
  if (pathname === '/history')
    return session.gitops ? <HistoryPage gitops={session.gitops} /> : <LiveModeHistory />;
  if (pathname === '/tenants') return session.isAdmin ? <TenantsPage /> : <Forbidden what="see tenants" />;
  if (pathname === '/hooks') return session.isAdmin ? <HooksPage /> : <Forbidden what="see hooks" />;
  return <NotFoundPage />;
}

function Forbidden({ what }: { what: string }) {
  useDocumentTitle('Not allowed');
  return (
    <>
      <h1>Not allowed</h1>
      <p>Your roles do not allow you to {what}.</p>
      <p>
        <Link to="/organizations">Back to organizations</Link>
      </p>
    </>
  );
}

/** In live mode there is no repository: changes are runs, and the runs and audit log are their history. */
function LiveModeHistory() {
  useDocumentTitle('History');
  return (
    <>
      <h1>History</h1>
      <p>
        This installation runs in live mode: every change is a run, with no repository behind it. See the{' '}
        <Link to="/runs">runs</Link> and the <Link to="/audit">audit log</Link>.
      </p>
    </>
  );
}

interface NavItem {
  to: string;
  label: string;
  operator?: boolean;
  admin?: boolean;
  /** Only in GitOps mode (true) or only in live mode (false). */
  gitops?: boolean;
}

const NAV: NavItem[] = [
  { to: '/organizations', label: 'Organizations' },
  { to: '/history', label: 'History', gitops: true },
  // A bulk apply starts runs directly, which GitOps mode does not do (changes are commits there).
  { to: '/bulk-apply', label: 'Bulk apply', operator: true, gitops: false },
  { to: '/runs', label: 'Runs' },
  { to: '/events', label: 'Events' },
  { to: '/audit', label: 'Audit log' },
  { to: '/tenants', label: 'Tenants', admin: true },
  { to: '/hooks', label: 'Hooks', admin: true },
];

function Layout({ children }: { children: ReactNode }) {
  const session = useSession();
  const { pathname } = useLocation();
  const mainRef = useRef<HTMLElement>(null);
  const firstPath = useRef(pathname);

  // After an in-app navigation, move focus to the new page (screen readers announce it; Tab starts there).
  useEffect(() => {
    if (pathname === firstPath.current) return;
    firstPath.current = pathname;
    const heading = mainRef.current?.querySelector('h1');
    if (heading) {
      heading.setAttribute('tabindex', '-1');
      heading.focus();
    } else {
      mainRef.current?.focus();
    }
  }, [pathname]);

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <div className="header-inner">
          <Link to="/organizations" className="brand">
            <span className="brand-mark" aria-hidden="true">
              ◆
            </span>{' '}
            Org Admin Portal
          </Link>
          <nav aria-label="Main" className="main-nav">
            <ul>
              {NAV.filter(
                (item) =>
                  (!item.admin || session.isAdmin) &&
                  (!item.operator || session.isOperator) &&
                  (item.gitops === undefined || item.gitops === (session.gitops !== null)),
              ).map((item) => {
                const current = pathname === item.to || pathname.startsWith(`${item.to}/`);
                return (
                  <li key={item.to}>
                    <Link to={item.to} aria-current={current ? 'page' : undefined}>
                      {item.label}
                    </Link>
                  </li>
                );
              })}
            </ul>
          </nav>
          <div className="user">
            <span className="user-email">
              {session.me.user.email ?? session.me.user.name ?? session.me.user.sub}
            </span>
            <span className="user-roles">
              <span className="visually-hidden">Roles: </span>
              {session.me.roles.join(', ')}
            </span>
            <form method="post" action="/auth/logout" className="logout">
              <input type="hidden" name="csrf" value={session.me.csrfToken ?? ''} />
              <button type="submit" className="button-small">
                Sign out
              </button>
            </form>
          </div>
        </div>
      </header>
      <main id="main" ref={mainRef} tabIndex={-1}>
        <Suspense fallback={<Loading />}>{children}</Suspense>
      </main>
      <footer className="site-footer">
        <span>{PRODUCT_NAME}</span>
        <a href="/api/v1/docs">API documentation</a>
        <a href="/api/v1/openapi.json">OpenAPI document</a>
      </footer>
    </div>
  );
}
