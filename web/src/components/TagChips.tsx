/** A session's tags as chips (read-only: sessions have no tag filter). */
export function TagChips({ tags }: { tags: readonly string[] }) {
  return (
    <span className="tag-list">
      {tags.map((t) => (
        <span key={t} className="chip">
          {t}
        </span>
      ))}
    </span>
  );
}
