/** Which row of the exit code guide explains a given code (exact codes, then ranges like "3–125", then "128 + n"). */
export interface GuideRow {
  code: string;
  meaning: string;
}

export function guideIndexFor(code: number | null, guide: readonly GuideRow[]): number {
  if (code === null) return -1;
  const exact = guide.findIndex((r) => r.code.trim() === String(code));
  if (exact >= 0) return exact;
  const range = guide.findIndex((r) => {
    const m = /^(\d+)\s*[–-]\s*(\d+)$/.exec(r.code.trim());
    return m ? code >= Number(m[1]) && code <= Number(m[2]) : false;
  });
  if (range >= 0) return range;
  if (code > 128) return guide.findIndex((r) => /^128\s*\+\s*n$/.test(r.code.trim()));
  return -1;
}
