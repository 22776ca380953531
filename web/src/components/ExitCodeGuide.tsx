/** Modal explaining exit codes (EXIT_CODE_GUIDE from the server's config), with the current code highlighted. */
import { useEffect, useRef } from 'react';
import { guideIndexFor, type GuideRow } from '../lib/exit-guide';
import { signalName } from '../../../src/domain/exit-interpretation';

interface Props {
  open: boolean;
  onClose: () => void;
  guide: readonly GuideRow[];
  code: number | null;
}

export function ExitCodeGuide({ open, onClose, guide, code }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) {
      if (typeof d.showModal === 'function') d.showModal();
      else d.setAttribute('open', '');
    } else if (!open && d.open) {
      if (typeof d.close === 'function') d.close();
      else d.removeAttribute('open');
    }
  }, [open]);
  const hit = guideIndexFor(code, guide);
  const sig = code !== null && code > 128 ? signalName(code - 128) : null;

  return (
    <dialog ref={ref} className="dialog" aria-labelledby="exit-guide-title" onClose={onClose} onCancel={onClose}>
      <header className="dialog-header">
        <h2 id="exit-guide-title">What exit codes mean</h2>
        <button type="button" className="btn btn-ghost" onClick={onClose} aria-label="Close">
          ✕
        </button>
      </header>
      {code !== null && (
        <p className="dialog-lead">
          This run ended with <strong className="mono">{code}</strong>
          {sig ? (
            <>
              {' '}
              = 128 + {code - 128} (<span className="mono">{sig}</span>)
            </>
          ) : null}
          . The reason shown on the card tells which limit (if any) caused it.
        </p>
      )}
      <table className="guide-table">
        <thead>
          <tr>
            <th scope="col">Code</th>
            <th scope="col">Meaning</th>
          </tr>
        </thead>
        <tbody>
          {guide.map((r, i) => (
            <tr key={r.code} className={i === hit ? 'hit' : undefined} aria-current={i === hit ? 'true' : undefined}>
              <td className="mono">{r.code}</td>
              <td>{r.meaning}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </dialog>
  );
}
