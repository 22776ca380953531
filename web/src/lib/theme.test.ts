import { describe, expect, it, vi } from 'vitest';
import { createThemeStore, THEME_STORAGE_KEY, type ThemeEnvironment } from './theme';

/** A fake browser: a map for localStorage, a switchable system preference, an element for <html>. */
function fakeEnvironment(opts: { stored?: string; systemDark?: boolean; storageThrows?: boolean } = {}) {
  const saved = new Map<string, string>(opts.stored === undefined ? [] : [[THEME_STORAGE_KEY, opts.stored]]);
  const attrs = new Map<string, string>();
  let onChange: (() => void) | null = null;
  const darkQuery = {
    matches: opts.systemDark ?? false,
    addEventListener: (_: string, l: () => void) => void (onChange = l),
  };
  const fail = () => {
    throw new Error('storage disabled');
  };
  const env = {
    storage: opts.storageThrows
      ? { getItem: fail, setItem: fail }
      : { getItem: (k: string) => saved.get(k) ?? null, setItem: (k: string, v: string) => void saved.set(k, v) },
    darkQuery,
    root: { setAttribute: (k: string, v: string) => void attrs.set(k, v) },
  } as unknown as ThemeEnvironment;
  return {
    env,
    saved,
    shown: () => attrs.get('data-theme'),
    setSystemDark(dark: boolean) {
      darkQuery.matches = dark;
      onChange?.();
    },
  };
}

describe('theme store', () => {
  it('follows the system by default, live', () => {
    const f = fakeEnvironment({ systemDark: true });
    const store = createThemeStore(f.env);
    expect(store.get()).toEqual({ preference: 'system', theme: 'dark' });
    expect(f.shown()).toBe('dark');
    const listener = vi.fn();
    store.subscribe(listener);
    f.setSystemDark(false);
    expect(store.get()).toEqual({ preference: 'system', theme: 'light' });
    expect(f.shown()).toBe('light');
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it('pins a chosen theme, saves it, and ignores the system meanwhile', () => {
    const f = fakeEnvironment({ systemDark: true });
    const store = createThemeStore(f.env);
    store.setPreference('light');
    expect(store.get()).toEqual({ preference: 'light', theme: 'light' });
    expect(f.shown()).toBe('light');
    expect(f.saved.get(THEME_STORAGE_KEY)).toBe('light');
    f.setSystemDark(false);
    f.setSystemDark(true);
    expect(store.get().theme).toBe('light');
    store.setPreference('system');
    expect(store.get()).toEqual({ preference: 'system', theme: 'dark' });
  });

  it('starts from the saved choice', () => {
    const f = fakeEnvironment({ stored: 'dark', systemDark: false });
    expect(createThemeStore(f.env).get()).toEqual({ preference: 'dark', theme: 'dark' });
    expect(f.shown()).toBe('dark');
  });

  it('treats a damaged saved value, or no storage at all, as "system"', () => {
    expect(createThemeStore(fakeEnvironment({ stored: 'purple' }).env).get().preference).toBe('system');
    const f = fakeEnvironment({ storageThrows: true, systemDark: true });
    const store = createThemeStore(f.env);
    expect(store.get()).toEqual({ preference: 'system', theme: 'dark' });
    store.setPreference('light'); // not saved, but still applied
    expect(f.shown()).toBe('light');
  });

  it('is light where the system preference cannot be read, as browsers default to', () => {
    const f = fakeEnvironment();
    expect(createThemeStore({ ...f.env, darkQuery: null }).get().theme).toBe('light');
  });

  it('notifies only on a real change, and stops after unsubscribe', () => {
    const store = createThemeStore(fakeEnvironment().env);
    const listener = vi.fn();
    const off = store.subscribe(listener);
    store.setPreference('system');
    expect(listener).not.toHaveBeenCalled();
    store.setPreference('dark');
    expect(listener).toHaveBeenCalledTimes(1);
    off();
    store.setPreference('light');
    expect(listener).toHaveBeenCalledTimes(1);
  });
});
