// @vitest-environment jsdom
import { cleanup, renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  defaultDraft,
  DRAFT_SAVE_DELAY_MS,
  DRAFT_STORAGE_KEY,
  forgetSetAsideDraft,
  loadDraft,
  openInEditor,
  readSetAsideDraft,
  saveDraft,
  useDraftAutosave,
  type Draft,
} from './draft';

function memoryStorage() {
  const m = new Map<string, string>();
  return {
    getItem: (k: string) => m.get(k) ?? null,
    setItem: vi.fn((k: string, v: string) => void m.set(k, v)),
    removeItem: (k: string) => void m.delete(k),
  };
}

describe('draft storage', () => {
  it('round-trips a draft', () => {
    const s = memoryStorage();
    const d: Draft = { ...defaultDraft, code: 'print(1)', tags: ['a'], memory_mb: 1024, sandbox: 'gvisor' };
    saveDraft(d, s);
    expect(loadDraft(s)).toEqual(d);
  });

  it('falls back to defaults for a missing, corrupt or partly invalid draft', () => {
    const s = memoryStorage();
    expect(loadDraft(s)).toEqual(defaultDraft);
    s.setItem(DRAFT_STORAGE_KEY, '{not json');
    expect(loadDraft(s)).toEqual(defaultDraft);
    s.setItem(DRAFT_STORAGE_KEY, JSON.stringify({ code: 'x = 1', sandbox: 'docker', timeout_s: 'soon', tags: ['ok', 3] }));
    expect(loadDraft(s)).toEqual({ ...defaultDraft, code: 'x = 1', tags: ['ok'] });
  });

  it('survives a storage that throws (quota, private mode)', () => {
    const broken = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('quota');
      },
    };
    expect(() => saveDraft(defaultDraft, broken)).not.toThrow();
    expect(() => loadDraft(broken)).not.toThrow();
  });
});

describe('openInEditor', () => {
  const opened: Draft = { ...defaultDraft, code: 'print("from a past run")' };

  it('sets the replaced draft aside, and forgets it when asked', () => {
    const s = memoryStorage();
    const mine: Draft = { ...defaultDraft, code: 'my work', tags: ['mine'] };
    saveDraft(mine, s);
    openInEditor(opened, 'ev-1', s);
    expect(loadDraft(s)).toEqual(opened);
    expect(readSetAsideDraft(s)).toEqual({ draft: mine, replacedBy: 'ev-1' });
    forgetSetAsideDraft(s);
    expect(readSetAsideDraft(s)).toBeNull();
  });

  it('sets nothing aside when the draft held nothing of the user’s', () => {
    for (const code of ['', '  \n', defaultDraft.code, opened.code]) {
      const s = memoryStorage();
      saveDraft({ ...defaultDraft, code }, s);
      openInEditor(opened, 'ev-1', s);
      expect(readSetAsideDraft(s)).toBeNull();
    }
  });
});

describe('useDraftAutosave', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => {
    cleanup();
    vi.useRealTimers();
  });

  it('saves once after typing pauses, and flushes on unmount', () => {
    const s = memoryStorage();
    const { rerender, unmount } = renderHook(({ d }) => useDraftAutosave(d, s), { initialProps: { d: { ...defaultDraft, code: 'a' } } });
    rerender({ d: { ...defaultDraft, code: 'ab' } });
    rerender({ d: { ...defaultDraft, code: 'abc' } });
    expect(s.setItem).not.toHaveBeenCalled();
    vi.advanceTimersByTime(DRAFT_SAVE_DELAY_MS + 10);
    expect(s.setItem).toHaveBeenCalledTimes(1);
    expect(loadDraft(s).code).toBe('abc');
    rerender({ d: { ...defaultDraft, code: 'abcd' } });
    unmount();
    expect(loadDraft(s).code).toBe('abcd');
  });
});
