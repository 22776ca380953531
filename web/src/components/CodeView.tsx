/**
 * Read-only Python with syntax colours and line numbers, without Monaco: a shared evaluation
 * link shows its code (and, above all, its verdict) without first downloading the 4 MB editor.
 * Colours come from the same palette as the editor's themes.
 */
import { useMemo, type CSSProperties } from 'react';
import { CODE_PALETTES, TOKEN_KINDS } from '../code/palette';
import { tokenizePython } from '../code/python-tokens';
import { useTheme } from '../lib/theme';

interface Props {
  code: string;
  label: string;
}

export function CodeView({ code, label }: Props) {
  const { theme } = useTheme();
  const lines = useMemo(() => tokenizePython(code.replace(/\n$/, '')), [code]);
  const palette = CODE_PALETTES[theme];
  const colours = Object.fromEntries([
    ['--code-view-bg', palette.background],
    ['--code-view-ln', palette.lineNumber],
    ...TOKEN_KINDS.map((k) => [`--tok-${k}`, palette.tokens[k]]),
  ]) as CSSProperties;
  return (
    // Focusable so a keyboard user can scroll long code.
    <pre className="code-view" style={colours} aria-label={label} tabIndex={0} data-testid="code-view">
      <code>
        {lines.map((tokens, n) => (
          <span className="code-line" key={n}>
            <span className="code-ln" aria-hidden="true">
              {n + 1}
            </span>
            {tokens.map((t, i) => (
              <span key={i} className={`tok-${t.kind}`}>
                {t.text}
              </span>
            ))}
            {'\n'}
          </span>
        ))}
      </code>
    </pre>
  );
}
