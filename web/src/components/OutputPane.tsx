/**
 * A virtualised log view for stdout or stderr. Output is read incrementally into the lines a
 * terminal would show (lib/terminal-log: colours carry across lines, "\r" redraws a line), and only
 * the lines in view (plus a margin) are in the DOM, so megabytes of output scroll smoothly; very
 * long lines are clipped for display. It follows new output while scrolled to the bottom and
 * stops following when the user scrolls up.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { formatBytes } from '../lib/format';
import { outputToString, type OutputText } from '../lib/output-text';
import { useTerminalLog, viewText } from '../lib/use-terminal-log';
import { AnsiLine } from './AnsiLine';
import { OUTPUT_WRAP_KEY, useWrapPreference } from '../lib/wrap-preference';

export const LINE_HEIGHT = 18;
const OVERSCAN = 30;
const MIN_PANE_HEIGHT = 64;
/** Characters of one line we render; the rest is summarised (a 1 MB line would stall layout). */
export const MAX_LINE_CHARS = 4000;
/**
 * Wrapped lines have different heights, so a wrapped pane renders every line instead of only the
 * visible ones; beyond this many lines that would be slow, and the pane stays unwrapped.
 */
export const WRAP_MAX_LINES = 5000;

interface Props {
  title: string;
  output: OutputText;
  truncated: boolean;
  /** Bytes kept per stream (max_output_bytes), for the truncation marker. */
  limitBytes?: number | undefined;
  tone?: 'stdout' | 'stderr';
  emptyText: string;
  height?: number;
  /** Offered name of the saved file, without extension (e.g. "<id>-stdout"). */
  fileName?: string;
}

export function OutputPane({ title, output, truncated, limitBytes, tone = 'stdout', emptyText, height = 260, fileName = title }: Props) {
  const view = useTerminalLog(output);
  const lineCount = view.count;
  const viewport = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewHeight, setViewHeight] = useState(height);
  const following = useRef(true);
  const [copied, setCopied] = useState<'shown' | 'raw' | null>(null);
  const [wrap, setWrap] = useWrapPreference(OUTPUT_WRAP_KEY);

  const rows = lineCount + (truncated ? 1 : 0);
  // Short output gets a short pane; it grows with the output up to `height`, then scrolls.
  const paneHeight = Math.min(height, Math.max(MIN_PANE_HEIGHT, rows * LINE_HEIGHT + 12));

  useLayoutEffect(() => {
    const el = viewport.current;
    if (el && following.current) {
      el.scrollTop = el.scrollHeight;
      setScrollTop(el.scrollTop);
    }
  }, [rows]);

  useEffect(() => {
    const el = viewport.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => setViewHeight(el.clientHeight || height));
    ro.observe(el);
    return () => ro.disconnect();
  }, [height]);

  const onScroll = () => {
    const el = viewport.current;
    if (!el) return;
    setScrollTop(el.scrollTop);
    following.current = el.scrollTop + el.clientHeight >= el.scrollHeight - LINE_HEIGHT * 2;
  };

  const wrapped = wrap && lineCount <= WRAP_MAX_LINES;
  const first = wrapped ? 0 : Math.max(0, Math.floor(scrollTop / LINE_HEIGHT) - OVERSCAN);
  const last = wrapped ? lineCount : Math.min(lineCount, Math.ceil((scrollTop + viewHeight) / LINE_HEIGHT) + OVERSCAN);
  const gutter = String(lineCount).length;

  // "Copy": the text as shown (what a reader wants to paste); "Copy raw": the bytes as the program
  // wrote them, escape sequences and every progress-bar redraw included (what a debugger wants).
  const copy = async (what: 'shown' | 'raw') => {
    try {
      await navigator.clipboard.writeText(what === 'shown' ? viewText(view) : outputToString(output));
      setCopied(what);
      setTimeout(() => setCopied(null), 1200);
    } catch {
      // Clipboard needs a secure context or permission; nothing useful to do about it here.
    }
  };

  return (
    <section className={`output output-${tone}`} aria-label={title}>
      <header className="output-header">
        <h3>{title}</h3>
        <span className="muted small" data-testid={`${tone}-stats`}>
          {lineCount.toLocaleString()} {lineCount === 1 ? 'line' : 'lines'} · {formatBytes(output.bytes)}
        </span>
        {truncated && <span className="pill pill-warn">truncated</span>}
        <button
          type="button"
          className="btn btn-ghost btn-xs"
          onClick={() => setWrap(!wrap)}
          aria-pressed={wrapped}
          disabled={lineCount > WRAP_MAX_LINES}
          title={lineCount > WRAP_MAX_LINES ? `Too many lines to wrap (over ${WRAP_MAX_LINES.toLocaleString()})` : 'Wrap long lines'}
          aria-label={`Wrap long lines of ${title}`}
        >
          Wrap
        </button>
        <button type="button" className="btn btn-ghost btn-xs" onClick={() => void copy('shown')} disabled={output.bytes === 0} title="Copy the text as shown">
          {copied === 'shown' ? 'Copied' : 'Copy'}
        </button>
        <button
          type="button"
          className="btn btn-ghost btn-xs"
          onClick={() => void copy('raw')}
          disabled={output.bytes === 0}
          title="Copy the raw output, escape sequences included"
          aria-label={`Copy raw ${title}`}
        >
          {copied === 'raw' ? 'Copied' : 'Copy raw'}
        </button>
        <button
          type="button"
          className="btn btn-ghost btn-xs"
          onClick={() => saveText(outputToString(output), `${fileName}.txt`)}
          disabled={output.bytes === 0}
          title="Save the raw output as a text file"
          aria-label={`Save ${title} as a file`}
        >
          Save
        </button>
      </header>
      <div
        className={`output-viewport${wrapped ? ' output-wrapped' : ''}`}
        ref={viewport}
        onScroll={onScroll}
        tabIndex={0}
        // Wrapped lines have unknown heights: the pane grows with its content up to `height`.
        style={wrapped ? { maxHeight: height, minHeight: MIN_PANE_HEIGHT } : { height: paneHeight }}
        data-testid={`${tone}-output`}
        aria-label={`${title} output, ${lineCount} lines`}
      >
        {rows === 0 ? (
          <div className="output-empty">{emptyText}</div>
        ) : (
          <div className="output-canvas" style={wrapped ? undefined : { height: rows * LINE_HEIGHT }}>
            <div className="output-rows" style={wrapped ? undefined : { transform: `translateY(${first * LINE_HEIGHT}px)` }}>
              {Array.from({ length: Math.max(0, last - first) }, (_, i) => {
                const n = first + i;
                return (
                  <div className="output-line" key={n}>
                    <span className="ln" aria-hidden="true" style={{ width: `${gutter + 1}ch` }}>
                      {n + 1}
                    </span>
                    <span className="lt">
                      <AnsiLine line={view.line(n)} maxChars={MAX_LINE_CHARS} />
                    </span>
                  </div>
                );
              })}
              {truncated && last >= lineCount && (
                <div className="output-line output-truncated" role="note">
                  ✂ Output truncated: only the first {limitBytes ? formatBytes(limitBytes) : 'part'} of {title} was kept (max_output_bytes).
                </div>
              )}
            </div>
          </div>
        )}
      </div>
    </section>
  );
}

/** Offers `text` as a download (the browser's save dialog or downloads folder). */
function saveText(text: string, name: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  // The click has started the download; the object URL is no longer needed after this task.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
