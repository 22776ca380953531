/**
 * Writes the README's error table from the catalogue in src/domain/error-codes.ts, between the
 * `<!-- error-codes:begin -->` and `<!-- error-codes:end -->` markers. Run after adding a code:
 * `npx tsx scripts/generate-error-table.ts` (test/domain/error-codes.test.ts fails until then).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { errorTableMarkdown } from '../src/domain/error-codes.js';

export const README = fileURLToPath(new URL('../README.md', import.meta.url));
const BEGIN = '<!-- error-codes:begin -->';
const END = '<!-- error-codes:end -->';

/** The README's text with the table between the markers replaced by the generated one. */
export function withGeneratedErrorTable(readme: string): string {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${BEGIN} … ${END} section`);
  return `${readme.slice(0, start + BEGIN.length)}\n${errorTableMarkdown()}\n${readme.slice(end)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(README, withGeneratedErrorTable(readFileSync(README, 'utf8')));
  console.log('README.md: error table regenerated');
}
