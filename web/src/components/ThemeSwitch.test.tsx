// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { createThemeStore, THEME_STORAGE_KEY, ThemeContext, type ThemeStore } from '../lib/theme';
import { ThemeSwitch } from './ThemeSwitch';

afterEach(() => {
  cleanup();
  localStorage.clear();
  document.documentElement.removeAttribute('data-theme');
});

function renderSwitch(systemDark: boolean): ThemeStore {
  const store = createThemeStore({
    storage: localStorage,
    darkQuery: { matches: systemDark, addEventListener: () => undefined },
    root: document.documentElement,
  });
  render(
    <ThemeContext.Provider value={store}>
      <ThemeSwitch />
    </ThemeContext.Provider>,
  );
  return store;
}

const radio = (name: string) => screen.getByRole('radio', { name }) as HTMLInputElement;

describe('ThemeSwitch', () => {
  it('is a labelled group of three radio buttons, System checked by default', () => {
    renderSwitch(true);
    const group = screen.getByRole('group', { name: 'Theme' });
    expect(
      within(group)
        .getAllByRole('radio')
        .map((r) => (r as HTMLInputElement).value),
    ).toEqual(['light', 'dark', 'system']);
    expect(radio('System').checked).toBe(true);
    expect(document.documentElement.dataset.theme).toBe('dark');
    // The system option says what it resolves to.
    expect(radio('System').closest('label')?.title).toBe('Follow the system setting (now dark)');
  });

  it('switches the page theme and remembers the choice', () => {
    const store = renderSwitch(true);
    fireEvent.click(radio('Light'));
    expect(radio('Light').checked).toBe(true);
    expect(radio('System').checked).toBe(false);
    expect(document.documentElement.dataset.theme).toBe('light');
    expect(localStorage.getItem(THEME_STORAGE_KEY)).toBe('light');
    expect(store.get()).toEqual({ preference: 'light', theme: 'light' });
    fireEvent.click(radio('System'));
    expect(document.documentElement.dataset.theme).toBe('dark');
  });

  it('keeps the radios in the tab order (native arrow-key behaviour does the rest)', () => {
    renderSwitch(false);
    for (const name of ['Light', 'Dark', 'System']) {
      const r = radio(name);
      expect(r.disabled).toBe(false);
      expect(r.tabIndex).toBe(0);
      r.focus();
      expect(document.activeElement).toBe(r);
    }
    // One group: checking one unchecks the others.
    expect(new Set(screen.getAllByRole('radio').map((r) => (r as HTMLInputElement).name)).size).toBe(1);
  });

  it('reflects a change made elsewhere', () => {
    const store = renderSwitch(false);
    expect(radio('System').checked).toBe(true);
    act(() => store.setPreference('dark'));
    expect(radio('Dark').checked).toBe(true);
  });
});
