/**
 * Client-side routing on the History API. Four pages do not need a router library: a location
 * store, a `navigate`, a `<Link>` that keeps normal link behaviour (middle-click, Ctrl+click open
 * a new tab) and a route matcher.
 */
import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

const NAVIGATE_EVENT = 'crucible:navigate';

export type Route =
  | { name: 'editor' }
  | { name: 'history' }
  | { name: 'dashboard' }
  | { name: 'audit' }
  | { name: 'sessions' }
  | { name: 'session'; id: string }
  | { name: 'compare' }
  | { name: 'tag'; tag: string }
  | { name: 'evaluation'; id: string }
  | { name: 'not-found' };

export function matchRoute(pathname: string): Route {
  const path = pathname.replace(/\/+$/, '') || '/';
  if (path === '/') return { name: 'editor' };
  if (path === '/history') return { name: 'history' };
  if (path === '/dashboard') return { name: 'dashboard' };
  if (path === '/audit') return { name: 'audit' };
  if (path === '/sessions') return { name: 'sessions' };
  if (path === '/compare') return { name: 'compare' };
  const tag = /^\/tags\/([^/]+)$/.exec(path);
  if (tag?.[1]) return { name: 'tag', tag: decodeURIComponent(tag[1]) };
  const m = /^\/evaluations\/([^/]+)$/.exec(path);
  if (m?.[1]) return { name: 'evaluation', id: decodeURIComponent(m[1]) };
  const s = /^\/sessions\/([^/]+)$/.exec(path);
  if (s?.[1]) return { name: 'session', id: decodeURIComponent(s[1]) };
  return { name: 'not-found' };
}

export const evaluationPath = (id: string) => `/evaluations/${encodeURIComponent(id)}`;
export const sessionPath = (id: string) => `/sessions/${encodeURIComponent(id)}`;
export const tagPath = (tag: string) => `/tags/${encodeURIComponent(tag)}`;

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (to === window.location.pathname + window.location.search) return;
  if (opts.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  window.dispatchEvent(new Event(NAVIGATE_EVENT));
}

function subscribe(cb: () => void): () => void {
  window.addEventListener('popstate', cb);
  window.addEventListener(NAVIGATE_EVENT, cb);
  return () => {
    window.removeEventListener('popstate', cb);
    window.removeEventListener(NAVIGATE_EVENT, cb);
  };
}

const snapshot = () => window.location.pathname + window.location.search;

/** The current path + query string; re-renders on navigation. */
export function useLocation(): { pathname: string; search: string } {
  const href = useSyncExternalStore(subscribe, snapshot, snapshot);
  const i = href.indexOf('?');
  return i < 0 ? { pathname: href, search: '' } : { pathname: href.slice(0, i), search: href.slice(i) };
}

export function Link({ href, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const handle = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
    window.scrollTo(0, 0);
  };
  return <a href={href} onClick={handle} {...rest} />;
}
