// @vitest-environment jsdom
import { act, cleanup, render } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createThemeStore, ThemeContext } from '../lib/theme';
import { CodeEditor } from './CodeEditor';

// Monaco itself does not run in jsdom; what matters here is what the editor is asked to show.
const editorProps = vi.hoisted(() => ({ last: null as null | { theme?: string; beforeMount?: (m: unknown) => void } }));
vi.mock('@monaco-editor/react', () => ({
  default: (props: { theme?: string; beforeMount?: (m: unknown) => void }) => {
    editorProps.last = props;
    return null;
  },
}));
vi.mock('../editor/monaco-setup', () => ({ monaco: {} }));

afterEach(cleanup);

describe('CodeEditor theme', () => {
  it('defines a light and a dark theme on Monaco’s vs and vs-dark', () => {
    const defineTheme = vi.fn<(name: string, def: { base: string }) => void>();
    render(<CodeEditor value="" height={100} label="Code" />);
    editorProps.last?.beforeMount?.({ editor: { defineTheme } });
    const bases = Object.fromEntries(defineTheme.mock.calls.map(([name, def]) => [name, def.base]));
    expect(bases).toEqual({ 'crucible-light': 'vs', 'crucible-dark': 'vs-dark' });
  });

  it('switches Monaco’s theme with the page theme', () => {
    const store = createThemeStore({ storage: null, darkQuery: { matches: true, addEventListener: () => undefined }, root: null });
    render(
      <ThemeContext.Provider value={store}>
        <CodeEditor value="print(1)" height={100} label="Code" />
      </ThemeContext.Provider>,
    );
    expect(editorProps.last?.theme).toBe('crucible-dark');
    act(() => store.setPreference('light'));
    expect(editorProps.last?.theme).toBe('crucible-light');
    act(() => store.setPreference('dark'));
    expect(editorProps.last?.theme).toBe('crucible-dark');
  });
});
