/** Whether a kind of pane wraps long lines; the last choice is remembered (per kind) for the next panes and visits. */
import { useState } from 'react';

export const OUTPUT_WRAP_KEY = 'crucible.output.wrap.v1';
export const EDITOR_WRAP_KEY = 'crucible.editor.wrap.v1';

export function useWrapPreference(storageKey: string): [boolean, (wrap: boolean) => void] {
  const [wrap, setWrap] = useState(() => {
    try {
      return localStorage.getItem(storageKey) === 'true';
    } catch {
      return false;
    }
  });
  const set = (next: boolean) => {
    setWrap(next);
    try {
      localStorage.setItem(storageKey, String(next));
    } catch {
      // storage disabled: the choice lasts as long as the page
    }
  };
  return [wrap, set];
}
