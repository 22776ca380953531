/**
 * Turns an API validation error (400 with zod issues in `details`) into messages next to the form
 * fields that caused them. Issues about a field the form does not show, or about the request as
 * a whole, stay in a general list so nothing is silently lost.
 */
import { ApiError } from './api-client';

export interface FormErrors<F extends string> {
  fields: Partial<Record<F, string>>;
  general: string[];
}

export function formErrorsFrom<F extends string>(err: unknown, fields: readonly F[]): FormErrors<F> {
  const out: FormErrors<F> = { fields: {}, general: [] };
  if (!(err instanceof ApiError)) {
    out.general.push(err instanceof Error ? err.message : String(err));
    return out;
  }
  const issues = err.issues;
  if (issues.length === 0) {
    out.general.push(err.message);
    return out;
  }
  for (const issue of issues) {
    const head = issue.path[0];
    const field = typeof head === 'string' && (fields as readonly string[]).includes(head) ? (head as F) : null;
    if (field === null) {
      const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
      out.general.push(`${where}${issue.message}`);
      continue;
    }
    // tags[3] → "tag 4: …" so the user knows which chip is wrong.
    // The server may send the index as a number or as a numeric string ("tags", "0").
    const index = issue.path.length > 1 ? Number(issue.path[1]) : Number.NaN;
    const sub = Number.isInteger(index) && String(issue.path[1]).trim() !== '' ? `#${index + 1}: ` : '';
    const msg = `${sub}${issue.message}`;
    out.fields[field] = out.fields[field] ? `${out.fields[field]}; ${msg}` : msg;
  }
  return out;
}

export function hasErrors<F extends string>(e: FormErrors<F>): boolean {
  return e.general.length > 0 || Object.keys(e.fields).length > 0;
}
