/**
 * What tells one run from another in listings when it has no `name`: the first line of its code
 * that says what the program does. Blank lines, comments, a shebang, encoding lines, imports and
 * lines that only open or close a docstring are skipped; if nothing else is left, the first
 * non-blank line is used (a program that is only imports is still told apart by them).
 */
export const CODE_TITLE_MAX_LENGTH = 120;

const NOISE = [
  /^#/, // comments, shebang, coding lines
  /^(import\s|from\s+\S+\s+import\s)/, // imports
  /^[rRbBuU]?("""|''')\s*$/, // a docstring's opening or closing line on its own
];

export function codeTitle(code: string): string | null {
  const lines = code
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const meaningful = lines.find((l) => !NOISE.some((re) => re.test(l))) ?? lines[0];
  if (meaningful === undefined) return null;
  return meaningful.length > CODE_TITLE_MAX_LENGTH ? `${meaningful.slice(0, CODE_TITLE_MAX_LENGTH - 1)}…` : meaningful;
}
