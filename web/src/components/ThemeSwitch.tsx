/**
 * The header's theme switch: Light, Dark or System, as a group of real radio buttons, so it
 * is reachable with Tab, changed with the arrow keys and announced as "Theme, radio group"
 * without any scripting of our own. Each input is transparent and laid over its visible face,
 * which draws the checked state and the focus ring.
 */
import { useId, type ReactNode } from 'react';
import { useTheme, type ThemePreference } from '../lib/theme';

/** Each option with the inside of its 16×16 line icon. */
const OPTIONS: ReadonlyArray<{ value: ThemePreference; label: string; glyph: ReactNode }> = [
  {
    value: 'light',
    label: 'Light',
    glyph: (
      <>
        <circle cx="8" cy="8" r="3" />
        <path d="M8 1v2M8 13v2M1 8h2M13 8h2M3 3l1.4 1.4M11.6 11.6 13 13M3 13l1.4-1.4M11.6 4.4 13 3" strokeLinecap="round" />
      </>
    ),
  },
  { value: 'dark', label: 'Dark', glyph: <path d="M13.5 10A6 6 0 0 1 6 2.5a6 6 0 1 0 7.5 7.5z" strokeLinejoin="round" /> },
  {
    value: 'system',
    label: 'System',
    glyph: (
      <>
        <rect x="1.5" y="2.5" width="13" height="9" rx="1.5" />
        <path d="M5.5 14h5M8 11.5V14" strokeLinecap="round" />
      </>
    ),
  },
];

export function ThemeSwitch() {
  const { preference, theme, setPreference } = useTheme();
  const name = useId();
  return (
    <fieldset className="theme-switch" data-testid="theme-switch">
      <legend className="sr-only">Theme</legend>
      {OPTIONS.map((o) => (
        <label key={o.value} className="theme-option" title={o.value === 'system' ? `Follow the system setting (now ${theme})` : `${o.label} theme`}>
          <input type="radio" name={name} value={o.value} checked={preference === o.value} onChange={() => setPreference(o.value)} />
          <span className="theme-option-face">
            <svg width="14" height="14" viewBox="0 0 16 16" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth={1.5}>
              {o.glyph}
            </svg>
            <span className="theme-option-label">{o.label}</span>
          </span>
        </label>
      ))}
    </fieldset>
  );
}
