import { memo } from 'react';
import { ansiClassNames } from '../lib/ansi';
import { clipLine, type OutputLine } from '../lib/terminal-log';

/**
 * One line of program output: text nodes in styled spans, never HTML. Only the first `maxChars`
 * characters are rendered (a 1 MB line would stall layout); the rest is summarised.
 * Memoised on the line itself: finished lines never change, so scrolling re-renders only the
 * rows that come into view.
 */
export const AnsiLine = memo(function AnsiLine({ line, maxChars }: { line: OutputLine; maxChars: number }) {
  const { segments, hidden } = clipLine(line, maxChars);
  return (
    <>
      {segments.length === 0 && '\u200b'}
      {segments.map((s, i) => {
        const cls = ansiClassNames(s.style);
        return (
          <span key={i} className={cls || undefined}>
            {s.text}
          </span>
        );
      })}
      {hidden > 0 && <span className="clip-marker"> … {hidden.toLocaleString()} more characters on this line</span>}
    </>
  );
});
