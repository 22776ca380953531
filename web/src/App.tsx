/** Shell: header navigation, who is signed in, the connection banner, and the page for the current URL (or the sign-in page). */
import { lazy, Suspense, useEffect } from 'react';
import { ConnectionBanner } from './components/ConnectionBanner';
import { ThemeSwitch } from './components/ThemeSwitch';
import { Link, matchRoute, useLocation, type Route } from './lib/router';
import { subscribeStatusFeed } from './lib/status-feed';
import { useSignIn } from './lib/use-sign-in';
import { EvaluationPage } from './pages/EvaluationPage';
import { SignInPage } from './pages/SignInPage';

// Only the editor needs Monaco (4 MB): it loads on demand, so every other page opens without it.
// The detail page is in the main bundle on purpose: a shared link is often the first page a user
// sees, on a phone, and one more round trip for its chunk would delay the verdict.
const EditorPage = lazy(() => import('./pages/EditorPage').then((m) => ({ default: m.EditorPage })));
// History and Dashboard are small but not needed to show a shared link: less to run first on a phone.
const HistoryPage = lazy(() => import('./pages/HistoryPage').then((m) => ({ default: m.HistoryPage })));
const DashboardPage = lazy(() => import('./pages/DashboardPage').then((m) => ({ default: m.DashboardPage })));
// Admins only (the API answers 403 to anyone else, shown on the page).
const ComparePage = lazy(() => import('./pages/ComparePage').then((m) => ({ default: m.ComparePage })));
const TagPage = lazy(() => import('./pages/TagPage').then((m) => ({ default: m.TagPage })));
const AuditPage = lazy(() => import('./pages/AuditPage').then((m) => ({ default: m.AuditPage })));
// Sessions (long-lived sandboxes of agents): their list, and each one's timeline and console.
const SessionsPage = lazy(() => import('./pages/SessionsPage').then((m) => ({ default: m.SessionsPage })));
const SessionPage = lazy(() => import('./pages/SessionPage').then((m) => ({ default: m.SessionPage })));

const NAV: Array<{ href: string; label: string; match: Route['name'][] }> = [
  { href: '/', label: 'Editor', match: ['editor'] },
  { href: '/history', label: 'History', match: ['history', 'evaluation', 'compare', 'tag'] },
  { href: '/sessions', label: 'Sessions', match: ['sessions', 'session'] },
  { href: '/dashboard', label: 'Dashboard', match: ['dashboard'] },
  { href: '/audit', label: 'Audit', match: ['audit'] },
];

const TITLES: Record<Route['name'], string> = {
  editor: 'Editor',
  history: 'History',
  dashboard: 'Dashboard',
  audit: 'Audit log',
  sessions: 'Sessions',
  compare: 'Compare runs',
  tag: 'Tag',
  evaluation: 'Evaluation',
  session: 'Session',
  'not-found': 'Not found',
};

export function App() {
  const { pathname } = useLocation();
  const route = matchRoute(pathname);

  const { state: signIn, signInWithKey, signOut } = useSignIn();
  const mayUse = signIn.status === 'signed-in' || signIn.status === 'unknown';

  // The status feed also drives the connection banner, so it runs on every page (once the API answers us).
  useEffect(() => (mayUse ? subscribeStatusFeed(() => undefined) : undefined), [mayUse]);
  useEffect(() => {
    const subject = route.name === 'evaluation' || route.name === 'session' ? route.id : route.name === 'tag' ? `Tag ${route.tag}` : TITLES[route.name];
    document.title = `${subject} · Crucible`;
  }, [pathname]); // eslint-disable-line react-hooks/exhaustive-deps

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <Link href="/" className="brand" aria-label="Crucible home">
          <svg width="20" height="20" viewBox="0 0 32 32" aria-hidden="true">
            <path d="M9 4h14l-2 4v6l7 12a3 3 0 0 1-2.6 4.5H6.6A3 3 0 0 1 4 26l7-12V8z" fill="currentColor" />
          </svg>
          <span className="brand-name">Crucible</span>
        </Link>
        <nav aria-label="Main">
          <ul>
            {NAV.map((n) => (
              <li key={n.href}>
                <Link href={n.href} aria-current={n.match.includes(route.name) ? 'page' : undefined}>
                  {n.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="header-end">
          {signIn.status === 'signed-in' && signIn.me.via === 'session' && (
            <span className="header-who" data-testid="signed-in-as">
              <span className="header-who-name">{signIn.me.name}</span>{' '}
              <span className="muted">
                {signIn.me.role} · {signIn.me.project}
              </span>
              <button type="button" className="btn btn-ghost" onClick={() => void signOut()}>
                Sign out
              </button>
            </span>
          )}
          <a className="header-docs" href="/docs" target="_blank" rel="noreferrer">
            API docs
          </a>
          <ThemeSwitch />
        </div>
      </header>
      <ConnectionBanner />
      <main id="main" tabIndex={-1}>
        {signIn.status === 'loading' ? (
          <div className="page muted">Loading…</div>
        ) : signIn.status === 'signed-out' ? (
          <SignInPage config={signIn.config} error={signIn.error} onKey={signInWithKey} />
        ) : (
          <Suspense fallback={<div className="page muted">Loading…</div>}>
            <Page route={route} />
          </Suspense>
        )}
      </main>
    </>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.name) {
    case 'editor':
      return <EditorPage />;
    case 'history':
      return <HistoryPage />;
    case 'dashboard':
      return <DashboardPage />;
    case 'audit':
      return <AuditPage />;
    case 'sessions':
      return <SessionsPage />;
    case 'compare':
      return <ComparePage />;
    case 'tag':
      return <TagPage key={route.tag} tag={route.tag} />;
    case 'evaluation':
      return <EvaluationPage key={route.id} id={route.id} />;
    case 'session':
      return <SessionPage key={route.id} id={route.id} />;
    case 'not-found':
      return (
        <div className="page">
          <h1 className="page-title">Page not found</h1>
          <p>
            <Link href="/">Go to the editor</Link>
          </p>
        </div>
      );
  }
}
