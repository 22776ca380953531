/**
 * Shares one in-flight or recent result of an expensive read between requests (e.g. exact counts
 * over a million-row table that a dashboard polls), so N watchers cost one query per interval.
 */
export function ttlCache<T>(ttlMs: number, load: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | null = null;
  let loadedAt = 0;
  return () => {
    if (!value || Date.now() - loadedAt > ttlMs) {
      loadedAt = Date.now();
      value = load();
      value.catch(() => {
        value = null; // never cache a failure
      });
    }
    return value;
  };
}
