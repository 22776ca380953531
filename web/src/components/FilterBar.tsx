/**
 * The filter bar above a listing (History, Audit log): one form of labelled fields, so both pages
 * look and behave alike. Enter in a text field calls its `onEnter`, else submits the form
 * (`onSubmit`) — explicitly, since a browser only submits on Enter when the form has a submit
 * button or a single field.
 */
import type { FormEvent, ReactNode } from 'react';

export function FilterBar({ onSubmit, children }: { onSubmit?: () => void; children: ReactNode }) {
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSubmit?.();
  };
  return (
    <form className="filters" aria-label="Filters" onSubmit={submit} role="search">
      {children}
    </form>
  );
}

interface TextProps {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  placeholder?: string;
  /** Called when the field loses focus (e.g. to apply what was typed). */
  onBlur?: () => void;
  /** Called on Enter in the field (e.g. to apply what was typed). */
  onEnter?: () => void;
  type?: 'search' | 'text';
}

export function FilterText({ id, label, value, onChange, placeholder, onBlur, onEnter, type = 'search' }: TextProps) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type={type}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        onBlur={onBlur}
        onKeyDown={(e) => {
          if (e.key !== 'Enter' || !onEnter) return;
          e.preventDefault();
          onEnter();
        }}
        placeholder={placeholder}
        spellCheck={false}
      />
    </div>
  );
}

interface SelectProps {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  options: ReadonlyArray<{ value: string; label: string }>;
}

export function FilterSelect({ id, label, value, onChange, options }: SelectProps) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}
