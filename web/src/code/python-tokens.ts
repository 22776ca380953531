/**
 * A small Python tokenizer for read-only highlighting: comments, strings (prefixes, triple
 * quotes spanning lines), numbers, keywords, builtins, decorators and the names after def/class.
 * It only colours text, so it may be wrong on exotic code without harm; it never loses or
 * reorders a character (the tokens of a line concatenate back to the line).
 */
import type { TokenKind } from './palette';

export interface Token {
  kind: TokenKind;
  text: string;
}

const KEYWORDS = new Set(
  (
    'False None True and as assert async await break class continue def del elif else except finally for from global if import ' +
    'in is lambda nonlocal not or pass raise return try while with yield match case'
  ).split(' '),
);

const BUILTINS = new Set(
  (
    'abs all any ascii bin bool breakpoint bytearray bytes callable chr classmethod compile complex delattr dict dir divmod ' +
    'enumerate eval exec filter float format frozenset getattr globals hasattr hash help hex id input int isinstance issubclass ' +
    'iter len list locals map max memoryview min next object oct open ord pow print property range repr reversed round set ' +
    'setattr slice sorted staticmethod str sum super tuple type vars zip self cls Exception ValueError TypeError KeyError ' +
    'IndexError RuntimeError StopIteration OSError'
  ).split(' '),
);

// One alternative per token kind, tried at the current position in this order.
const STRING_START = /^([rRbBuUfF]{0,2})('''|"""|'|")/;
const NUMBER = /^(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(\d[\d_]*)?\.?\d[\d_]*([eE][+-]?\d+)?[jJ]?)/;
const NAME = /^[A-Za-z_\u00C0-\uFFFF][\w\u00C0-\uFFFF]*/;
const DECORATOR = /^@[A-Za-z_][\w.]*/;
const OTHER = /^[^\s#'"A-Za-z_\d@\u00C0-\uFFFF]+|^\s+/;

/** Where a string that started on an earlier line is still open: its quote. */
type OpenString = { quote: string } | null;

/** Splits `code` into lines of tokens. */
export function tokenizePython(code: string): Token[][] {
  const lines: Token[][] = [];
  let open: OpenString = null;
  let afterDefOrClass = false;
  for (const line of code.split('\n')) {
    const tokens: Token[] = [];
    const push = (kind: TokenKind, text: string) => {
      const last = tokens[tokens.length - 1];
      if (last && last.kind === kind) last.text += text;
      else tokens.push({ kind, text });
    };
    let i = 0;
    if (open) {
      const end = findStringEnd(line, 0, open.quote);
      push('string', line.slice(0, end ?? line.length));
      i = end ?? line.length;
      if (end !== null) open = null;
    }
    while (i < line.length) {
      const rest = line.slice(i);
      let m: RegExpExecArray | null;
      if (rest[0] === '#') {
        push('comment', rest);
        break;
      }
      if ((m = STRING_START.exec(rest))) {
        const quote = m[2] as string;
        const bodyStart = i + m[0].length;
        const end = findStringEnd(line, bodyStart, quote);
        // An unterminated single-quoted string ends at the line; a triple-quoted one carries on.
        if (end === null && quote.length === 3) open = { quote };
        push('string', line.slice(i, end ?? line.length));
        i = end ?? line.length;
        continue;
      }
      if ((m = DECORATOR.exec(rest))) {
        push('decorator', m[0]);
      } else if ((m = NAME.exec(rest))) {
        const word = m[0];
        const kind: TokenKind = afterDefOrClass ? 'function' : KEYWORDS.has(word) ? 'keyword' : BUILTINS.has(word) ? 'builtin' : 'text';
        afterDefOrClass = word === 'def' || word === 'class';
        push(kind, word);
        i += word.length;
        continue;
      } else if (/^\d|^\.\d/.test(rest) && (m = NUMBER.exec(rest)) && m[0] !== '') {
        push('number', m[0]);
      } else {
        m = OTHER.exec(rest) ?? ([rest[0] as string] as unknown as RegExpExecArray);
        push('text', m[0]);
        if (m[0].trim() !== '') afterDefOrClass = false;
      }
      i += m[0].length;
    }
    lines.push(tokens);
  }
  return lines;
}

/** Index just past the closing `quote` at or after `from` (skipping backslash escapes), or null. */
function findStringEnd(line: string, from: number, quote: string): number | null {
  for (let i = from; i < line.length; i++) {
    if (line[i] === '\\') {
      i++;
      continue;
    }
    if (line.startsWith(quote, i)) return i + quote.length;
  }
  return null;
}
