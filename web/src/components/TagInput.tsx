/**
 * Chip input for tags: Enter or comma adds what was typed (a space is refused, never a split) (validated with the API's tag
 * schema), Backspace in an empty box removes the last chip, each chip has its own remove button.
 */
import { useId, useState, type KeyboardEvent } from 'react';
import { addTags, removeTag } from '../lib/tags';

interface Props {
  label: string;
  tags: readonly string[];
  onChange: (tags: string[]) => void;
  placeholder?: string;
  /** An error from the server for this field, shown under it. */
  error?: string | undefined;
  id?: string;
}

export function TagInput({ label, tags, onChange, placeholder = 'add tag…', error, id }: Props) {
  const autoId = useId();
  const inputId = id ?? `tags-${autoId}`;
  const errId = `${inputId}-error`;
  const [text, setText] = useState('');
  const [localError, setLocalError] = useState<string | null>(null);

  const commit = () => {
    if (!text.trim()) return;
    const r = addTags(tags, text);
    if (r.tags.length !== tags.length) onChange(r.tags);
    if (r.ok) {
      setText('');
      setLocalError(null);
    } else setLocalError(r.error);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if ((e.key === 'Enter' && !(e.ctrlKey || e.metaKey)) || e.key === ',') {
      if (text.trim()) {
        e.preventDefault();
        commit();
      } else if (e.key !== 'Enter') e.preventDefault();
    } else if (e.key === 'Backspace' && text === '' && tags.length > 0) {
      onChange(tags.slice(0, -1));
    }
  };

  const shownError = localError ?? error;
  return (
    <div className="field">
      <label htmlFor={inputId}>{label}</label>
      <div className={`chip-input${shownError ? ' invalid' : ''}`}>
        {tags.map((t) => (
          <span className="chip" key={t}>
            {t}
            <button type="button" className="chip-remove" aria-label={`Remove tag ${t}`} onClick={() => onChange(removeTag(tags, t))}>
              ×
            </button>
          </span>
        ))}
        <input
          id={inputId}
          value={text}
          placeholder={tags.length ? '' : placeholder}
          onChange={(e) => {
            setText(e.target.value);
            setLocalError(null);
          }}
          onKeyDown={onKeyDown}
          onBlur={commit}
          aria-invalid={shownError ? true : undefined}
          aria-describedby={shownError ? errId : undefined}
          autoComplete="off"
          spellCheck={false}
        />
      </div>
      {shownError && (
        <p className="field-error" id={errId} role="alert">
          {shownError}
        </p>
      )}
    </div>
  );
}
