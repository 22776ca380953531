/**
 * Tag chips, shared by the editor (tags to attach) and the history filter (tags to require, AND).
 * A tag is validated with the API's own schema, so the UI rejects exactly what the server would.
 */
import { CreateEvaluationRequest } from '../../../src/domain/evaluation';

const TagSchema = CreateEvaluationRequest.shape.tags.unwrap().element;

export type AddTagResult = { ok: true; tags: string[] } | { ok: false; tags: string[]; error: string };

/** Adds one tag (trimmed); duplicates are a no-op, invalid tags come back with the API's message. */
export function addTag(tags: readonly string[], raw: string): AddTagResult {
  const tag = raw.trim();
  if (tag === '') return { ok: true, tags: [...tags] };
  // Refused, never split into several tags: the user meant one tag.
  if (/\s/.test(tag)) return { ok: false, tags: [...tags], error: `tags cannot contain spaces; use - or _ instead (e.g. ${tag.split(/\s+/).join('-')})` };
  if (tags.includes(tag)) return { ok: true, tags: [...tags] };
  const parsed = TagSchema.safeParse(tag);
  if (!parsed.success) return { ok: false, tags: [...tags], error: parsed.error.issues[0]?.message ?? 'invalid tag' };
  return { ok: true, tags: [...tags, tag] };
}

/** Adds several tags typed or pasted at once ("a, b" or one per line); stops at the first invalid one. */
export function addTags(tags: readonly string[], raw: string): AddTagResult {
  let current: string[] = [...tags];
  for (const part of raw.split(/[,\n]+/)) {
    const r = addTag(current, part);
    if (!r.ok) return { ok: false, tags: current, error: `“${part}”: ${r.error}` };
    current = r.tags;
  }
  return { ok: true, tags: current };
}

export function removeTag(tags: readonly string[], tag: string): string[] {
  return tags.filter((t) => t !== tag);
}

/** Clicking a tag in the table adds it to the filter, clicking it again removes it. */
export function toggleTag(tags: readonly string[], tag: string): string[] {
  return tags.includes(tag) ? removeTag(tags, tag) : [...tags, tag];
}
