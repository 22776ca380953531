import { describe, expect, it } from 'vitest';
import { diffLines, MAX_DIFF_CELLS, withContext } from './line-diff';

describe('diffLines', () => {
  it('aligns unchanged lines and marks what was removed and added, with line numbers on each side', () => {
    const d = diffLines('a\nb\nc\nd\n', 'a\nc\nd\ne\n');
    expect(d.lines.map((l) => `${l.op[0]}${l.text}`)).toEqual(['sa', 'rb', 'sc', 'sd', 'ae']);
    expect(d.lines[2]).toEqual({ op: 'same', text: 'c', a: 3, b: 2 });
    expect(d.lines[4]).toEqual({ op: 'added', text: 'e', a: null, b: 4 });
    expect([d.added, d.removed, d.coarse]).toEqual([1, 1, false]);
  });

  it('says nothing changed for equal texts, and treats a missing final newline as the same lines', () => {
    expect(diffLines('x\ny', 'x\ny\n').added).toBe(0);
    expect(diffLines('', '').lines).toEqual([]);
    expect(diffLines('', 'new\n').lines).toEqual([{ op: 'added', text: 'new', a: null, b: 1 }]);
  });

  it('falls back to removed-then-added when the changed middle is too large to align', () => {
    const n = Math.ceil(Math.sqrt(MAX_DIFF_CELLS)) + 1;
    const a = Array.from({ length: n }, (_, i) => `a${i}`).join('\n');
    const b = Array.from({ length: n }, (_, i) => `b${i}`).join('\n');
    const d = diffLines(`same\n${a}\nend`, `same\n${b}\nend`);
    expect(d.coarse).toBe(true);
    expect([d.removed, d.added]).toEqual([n, n]);
    expect(d.lines[0]!.op).toBe('same');
    expect(d.lines.at(-1)).toEqual({ op: 'same', text: 'end', a: n + 2, b: n + 2 });
  });
});

describe('withContext', () => {
  it('folds long unchanged stretches into gaps that count the hidden lines', () => {
    const a = Array.from({ length: 20 }, (_, i) => `l${i}`).join('\n');
    const b = a.replace('l10', 'changed');
    const rows = withContext(diffLines(a, b).lines, 2);
    expect(rows[0]).toEqual({ op: 'gap', hidden: 8 });
    expect(rows.filter((r) => r.op !== 'gap').map((r) => ('text' in r ? r.text : ''))).toEqual(['l8', 'l9', 'l10', 'changed', 'l11', 'l12']);
    expect(rows.at(-1)).toEqual({ op: 'gap', hidden: 7 });
  });
});
