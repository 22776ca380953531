import { memo } from 'react';
import { ansiClassNames, parseAnsiLine } from '../lib/ansi';

/** One line of program output: text nodes in styled spans, never HTML. */
export const AnsiLine = memo(function AnsiLine({ line }: { line: string }) {
  const segments = parseAnsiLine(line);
  if (segments.length === 0) return <>{'\u200b'}</>;
  return (
    <>
      {segments.map((s, i) => {
        const cls = ansiClassNames(s.style);
        return cls ? (
          <span key={i} className={cls}>
            {s.text}
          </span>
        ) : (
          <span key={i}>{s.text}</span>
        );
      })}
    </>
  );
});
