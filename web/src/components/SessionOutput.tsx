/**
 * One stream of a command's output (stdout or stderr), shown safely: control characters as
 * visible escapes, bytes that are not UTF-8 as a size and a hex preview, never as raw bytes.
 */
import { decodeOutput, hasReplacementChars, HEX_PREVIEW_BYTES, printablePieces } from '../lib/session-view';
import { formatBytes } from '../lib/format';

interface Props {
  stream: 'stdout' | 'stderr';
  /** Text as the server decoded it (events), or bytes as base64 (the console's own exec answer). */
  text?: string;
  base64?: string;
  /** Bytes the stream really had (the text may be the first 64 KiB of it). */
  totalBytes?: number;
  truncated?: boolean;
  testId?: string;
}

export function SessionOutput({ stream, text, base64, totalBytes, truncated, testId }: Props) {
  const decoded = base64 === undefined ? { kind: 'text' as const, text: text ?? '' } : decodeOutput(base64);
  if (decoded.kind === 'text' && decoded.text === '') return null;
  const shownBytes = decoded.kind === 'text' ? new TextEncoder().encode(decoded.text).length : decoded.size;
  const notes: string[] = [];
  if (totalBytes !== undefined && totalBytes > shownBytes) notes.push(`first ${formatBytes(shownBytes)} of ${formatBytes(totalBytes)}`);
  if (truncated) notes.push('output cut at the limit');
  if (decoded.kind === 'text' && hasReplacementChars(decoded.text)) notes.push('bytes that are not UTF-8 shown as �');
  return (
    <div className={`session-output session-output-${stream}`} data-testid={testId}>
      <div className="session-output-head">
        <span className="session-output-name">{stream}</span>
        {notes.length > 0 && <span className="muted small">{notes.join(' · ')}</span>}
      </div>
      {decoded.kind === 'text' ? (
        <pre className="session-output-text">
          {printablePieces(decoded.text).map((p, i) =>
            'text' in p ? (
              p.text
            ) : (
              <span key={i} className="session-escape" title="control character">
                {p.escape}
              </span>
            ),
          )}
        </pre>
      ) : (
        <div>
          <p className="small session-binary-note">
            Binary output, {formatBytes(decoded.size)}
            {decoded.more ? ` (first ${HEX_PREVIEW_BYTES} bytes in hex)` : ' (hex)'}:
          </p>
          <pre className="session-output-text session-hex">{decoded.hex}</pre>
        </div>
      )}
    </div>
  );
}
