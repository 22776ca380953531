/**
 * Shown in the editor after "Open in editor" replaced a draft the user had written: the old
 * draft is one click away, so opening a past run never silently throws work away.
 */
import { evaluationPath, Link } from '../lib/router';
import type { SetAsideDraft } from '../lib/draft';

interface Props {
  setAside: SetAsideDraft;
  onRestore: () => void;
  onDismiss: () => void;
}

export function SetAsideNotice({ setAside, onRestore, onDismiss }: Props) {
  return (
    <div className="notice" role="status" data-testid="set-aside-notice">
      <p>
        This is the code of{' '}
        <Link href={evaluationPath(setAside.replacedBy)} className="mono">
          {setAside.replacedBy}
        </Link>
        . Your previous draft was set aside.
      </p>
      <div className="notice-actions">
        <button type="button" className="btn btn-sm" onClick={onRestore}>
          Restore previous draft
        </button>
        <button type="button" className="btn btn-ghost btn-sm" onClick={onDismiss}>
          Keep this code
        </button>
      </div>
    </div>
  );
}
