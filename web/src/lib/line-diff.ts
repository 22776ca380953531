/**
 * A small line diff for the compare view (code, stdout, stderr). Longest common subsequence over
 * the lines left after trimming the common head and tail; the table it needs is bounded, and a
 * middle too large for it is shown as removed-then-added instead of freezing the tab.
 */

export type DiffOp = 'same' | 'removed' | 'added';

export interface DiffLine {
  op: DiffOp;
  text: string;
  /** 1-based line number in A (for same/removed) and in B (for same/added). */
  a: number | null;
  b: number | null;
}

export interface LineDiff {
  lines: DiffLine[];
  added: number;
  removed: number;
  /** True when the changed middle was too large to align line by line. */
  coarse: boolean;
}

/** Cells of the LCS table (rows × columns of the changed middle) computed at most. */
export const MAX_DIFF_CELLS = 4_000_000;

export const splitLines = (text: string): string[] => {
  if (text === '') return [];
  const lines = text.split('\n');
  // A trailing newline ends the last line; it does not start an empty one.
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
};

export function diffLines(aText: string, bText: string): LineDiff {
  const a = splitLines(aText);
  const b = splitLines(bText);
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;

  const out: DiffLine[] = [];
  for (let i = 0; i < head; i++) out.push({ op: 'same', text: a[i]!, a: i + 1, b: i + 1 });

  const am = a.slice(head, a.length - tail);
  const bm = b.slice(head, b.length - tail);
  const coarse = am.length * bm.length > MAX_DIFF_CELLS;
  const middle = coarse ? [...am.map((t) => ['removed', t] as const), ...bm.map((t) => ['added', t] as const)] : lcsOps(am, bm);
  let ai = head;
  let bi = head;
  for (const [op, text] of middle) {
    if (op === 'same') out.push({ op, text, a: ++ai, b: ++bi });
    else if (op === 'removed') out.push({ op, text, a: ++ai, b: null });
    else out.push({ op, text, a: null, b: ++bi });
  }

  for (let i = 0; i < tail; i++) out.push({ op: 'same', text: a[a.length - tail + i]!, a: a.length - tail + i + 1, b: b.length - tail + i + 1 });
  return {
    lines: out,
    added: out.filter((l) => l.op === 'added').length,
    removed: out.filter((l) => l.op === 'removed').length,
    coarse,
  };
}

/** The edit script from the LCS table, removals before additions within a changed stretch. */
function lcsOps(a: readonly string[], b: readonly string[]): Array<readonly [DiffOp, string]> {
  const n = a.length;
  const m = b.length;
  // lcs[i * (m + 1) + j]: length of the LCS of a[i..] and b[j..].
  const lcs = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * (m + 1) + j] = a[i] === b[j] ? lcs[(i + 1) * (m + 1) + j + 1]! + 1 : Math.max(lcs[(i + 1) * (m + 1) + j]!, lcs[i * (m + 1) + j + 1]!);
    }
  }
  const ops: Array<readonly [DiffOp, string]> = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push(['same', a[i]!]);
      i++;
      j++;
    } else if (lcs[(i + 1) * (m + 1) + j]! >= lcs[i * (m + 1) + j + 1]!) ops.push(['removed', a[i++]!]);
    else ops.push(['added', b[j++]!]);
  }
  while (i < n) ops.push(['removed', a[i++]!]);
  while (j < m) ops.push(['added', b[j++]!]);
  return ops;
}

/**
 * The lines worth showing: every change with `context` unchanged lines around it; longer
 * unchanged stretches fold into a gap marker that says how many lines it hides.
 */
export type DiffRow = DiffLine | { op: 'gap'; hidden: number };

export function withContext(lines: readonly DiffLine[], context = 3): DiffRow[] {
  const keep = lines.map(() => false);
  lines.forEach((l, i) => {
    if (l.op === 'same') return;
    for (let k = Math.max(0, i - context); k <= Math.min(lines.length - 1, i + context); k++) keep[k] = true;
  });
  const rows: DiffRow[] = [];
  let hidden = 0;
  lines.forEach((l, i) => {
    if (keep[i]) {
      if (hidden) rows.push({ op: 'gap', hidden });
      hidden = 0;
      rows.push(l);
    } else hidden++;
  });
  if (hidden) rows.push({ op: 'gap', hidden });
  return rows;
}
