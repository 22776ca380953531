/**
 * Light or dark. By default the UI follows the system (prefers-color-scheme), live; the header
 * switch can pin either theme, and that choice is saved in localStorage. The resolved theme is
 * written to <html data-theme>, which the stylesheet turns into `color-scheme` (and so into every
 * light-dark() colour); Monaco, which has its own themes, reads it through useTheme().
 */
import { createContext, useContext, useSyncExternalStore } from 'react';

export const THEME_PREFERENCES = ['system', 'light', 'dark'] as const;
export type ThemePreference = (typeof THEME_PREFERENCES)[number];
export type Theme = 'light' | 'dark';

/** Also read by the pre-paint script in web/index.html: change both together. */
export const THEME_STORAGE_KEY = 'crucible.theme.v1';
const DARK_QUERY = '(prefers-color-scheme: dark)';

export interface ThemeState {
  preference: ThemePreference;
  /** What is shown: the preference, or the system's theme for 'system'. */
  theme: Theme;
}

export interface ThemeStore {
  get(): ThemeState;
  setPreference(preference: ThemePreference): void;
  subscribe(listener: () => void): () => void;
}

/** What the store needs from the browser; tests pass their own. */
export interface ThemeEnvironment {
  storage: Pick<Storage, 'getItem' | 'setItem'> | null;
  /** The `(prefers-color-scheme: dark)` query; null where there is none (light, as browsers default to). */
  darkQuery: Pick<MediaQueryList, 'matches' | 'addEventListener'> | null;
  root: HTMLElement | null;
}

function isPreference(v: unknown): v is ThemePreference {
  return typeof v === 'string' && (THEME_PREFERENCES as readonly string[]).includes(v);
}

function readPreference(storage: ThemeEnvironment['storage']): ThemePreference {
  try {
    const v = storage?.getItem(THEME_STORAGE_KEY);
    return isPreference(v) ? v : 'system';
  } catch {
    return 'system'; // storage can be disabled (privacy modes); the system theme is a fine default
  }
}

export function createThemeStore(env: ThemeEnvironment): ThemeStore {
  const listeners = new Set<() => void>();
  const resolve = (preference: ThemePreference): ThemeState => ({
    preference,
    theme: preference === 'system' ? (env.darkQuery?.matches ? 'dark' : 'light') : preference,
  });
  let state = resolve(readPreference(env.storage));

  const update = (next: ThemeState) => {
    if (next.preference === state.preference && next.theme === state.theme) return;
    state = next;
    apply();
    for (const l of listeners) l();
  };
  const apply = () => {
    env.root?.setAttribute('data-theme', state.theme);
  };

  apply();
  // Only matters while following the system, but cheap to keep listening.
  env.darkQuery?.addEventListener('change', () => update(resolve(state.preference)));

  return {
    get: () => state,
    setPreference(preference) {
      try {
        env.storage?.setItem(THEME_STORAGE_KEY, preference);
      } catch {
        // Not saved (storage disabled or full): it still applies to this page.
      }
      update(resolve(preference));
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

function browserEnvironment(): ThemeEnvironment {
  const hasWindow = typeof window !== 'undefined';
  let storage: Storage | null = null;
  try {
    storage = hasWindow ? window.localStorage : null;
  } catch {
    // Reading localStorage itself throws when it is blocked.
  }
  return {
    storage,
    darkQuery: hasWindow && typeof window.matchMedia === 'function' ? window.matchMedia(DARK_QUERY) : null,
    root: typeof document !== 'undefined' ? document.documentElement : null,
  };
}

let appStore: ThemeStore | null = null;
/** The page's store, created (and applied to <html>) on first use; main.tsx does that before rendering. */
export function themeStore(): ThemeStore {
  appStore ??= createThemeStore(browserEnvironment());
  return appStore;
}

/** Lets tests (or an embedding) supply their own store. */
export const ThemeContext = createContext<ThemeStore | null>(null);

export function useTheme(): ThemeState & { setPreference: (p: ThemePreference) => void } {
  const store = useContext(ThemeContext) ?? themeStore();
  const state = useSyncExternalStore(store.subscribe, store.get);
  return { ...state, setPreference: store.setPreference };
}
