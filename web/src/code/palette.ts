/**
 * Colours of Python code, one palette for both places code is shown: the Monaco editor (its
 * themes) and the lightweight read-only view of the detail page. Every token colour keeps 4.5:1
 * on the code background and on the editor's current-line highlight (theme-contrast.test.ts).
 */
import type { Theme } from '../lib/theme';

export const TOKEN_KINDS = ['text', 'comment', 'keyword', 'string', 'number', 'decorator', 'builtin', 'function'] as const;
export type TokenKind = (typeof TOKEN_KINDS)[number];

export interface CodePalette {
  background: string;
  lineHighlight: string;
  lineNumber: string;
  lineNumberActive: string;
  tokens: Record<TokenKind, string>;
}

export const CODE_PALETTES: Record<Theme, CodePalette> = {
  light: {
    background: '#ffffff',
    lineHighlight: '#f3f6f9',
    lineNumber: '#6e7781',
    lineNumberActive: '#1f2328',
    tokens: {
      text: '#1f2328',
      comment: '#116329',
      keyword: '#0550ae',
      string: '#a31515',
      number: '#096c4a',
      decorator: '#953800',
      builtin: '#6f42c1',
      function: '#795e26',
    },
  },
  dark: {
    background: '#0f141b',
    lineHighlight: '#161d27',
    lineNumber: '#7d8896',
    lineNumberActive: '#c9d1db',
    tokens: {
      text: '#d4d4d4',
      // Monaco's own #6a9955 falls to ~4.3:1 on a highlighted line.
      comment: '#7fae6a',
      keyword: '#569cd6',
      string: '#ce9178',
      number: '#b5cea8',
      decorator: '#dcdcaa',
      builtin: '#4ec9b0',
      function: '#dcdcaa',
    },
  },
};
