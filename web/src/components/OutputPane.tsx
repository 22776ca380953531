/**
 * A virtualised log view for stdout or stderr. Only the lines in view (plus a margin) are in the
 * DOM, so megabytes of output scroll smoothly; very long lines are clipped for display. It
 * follows new output while scrolled to the bottom and stops following when the user scrolls up.
 */
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { formatBytes } from '../lib/format';
import { AnsiLine } from './AnsiLine';

export const LINE_HEIGHT = 18;
const OVERSCAN = 30;
const MIN_PANE_HEIGHT = 64;
/** Characters of one line we render; the rest is summarised (a 1 MB line would stall layout). */
export const MAX_LINE_CHARS = 4000;

export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function clip(line: string): string {
  return line.length > MAX_LINE_CHARS ? line.slice(0, MAX_LINE_CHARS) : line;
}

interface Props {
  title: string;
  text: string;
  truncated: boolean;
  /** Bytes kept per stream (max_output_bytes), for the truncation marker. */
  limitBytes?: number | undefined;
  tone?: 'stdout' | 'stderr';
  emptyText: string;
  height?: number;
}

export function OutputPane({ title, text, truncated, limitBytes, tone = 'stdout', emptyText, height = 260 }: Props) {
  const lines = useMemo(() => splitLines(text), [text]);
  const bytes = useMemo(() => new TextEncoder().encode(text).length, [text]);
  const viewport = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewHeight, setViewHeight] = useState(height);
  const following = useRef(true);
  const [copied, setCopied] = useState(false);

  const rows = lines.length + (truncated ? 1 : 0);
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

  const first = Math.max(0, Math.floor(scrollTop / LINE_HEIGHT) - OVERSCAN);
  const last = Math.min(lines.length, Math.ceil((scrollTop + viewHeight) / LINE_HEIGHT) + OVERSCAN);
  const gutter = String(lines.length).length;

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      setTimeout(() => setCopied(false), 1200);
    } catch {
      // Clipboard needs a secure context or permission; nothing useful to do about it here.
    }
  };

  return (
    <section className={`output output-${tone}`} aria-label={title}>
      <header className="output-header">
        <h3>{title}</h3>
        <span className="muted small" data-testid={`${tone}-stats`}>
          {lines.length.toLocaleString()} {lines.length === 1 ? 'line' : 'lines'} · {formatBytes(bytes)}
        </span>
        {truncated && <span className="pill pill-warn">truncated</span>}
        <button type="button" className="btn btn-ghost btn-xs" onClick={copy} disabled={!text}>
          {copied ? 'Copied' : 'Copy'}
        </button>
      </header>
      <div
        className="output-viewport"
        ref={viewport}
        onScroll={onScroll}
        tabIndex={0}
        style={{ height: paneHeight }}
        data-testid={`${tone}-output`}
        aria-label={`${title} output, ${lines.length} lines`}
      >
        {rows === 0 ? (
          <div className="output-empty">{emptyText}</div>
        ) : (
          <div className="output-canvas" style={{ height: rows * LINE_HEIGHT }}>
            <div className="output-rows" style={{ transform: `translateY(${first * LINE_HEIGHT}px)` }}>
              {lines.slice(first, last).map((line, i) => {
                const n = first + i;
                return (
                  <div className="output-line" key={n}>
                    <span className="ln" aria-hidden="true" style={{ width: `${gutter + 1}ch` }}>
                      {n + 1}
                    </span>
                    <span className="lt">
                      <AnsiLine line={clip(line)} />
                      {line.length > MAX_LINE_CHARS && (
                        <span className="clip-marker"> … {(line.length - MAX_LINE_CHARS).toLocaleString()} more characters on this line</span>
                      )}
                    </span>
                  </div>
                );
              })}
              {truncated && last >= lines.length && (
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
