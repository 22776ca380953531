/** "6 s ago" that keeps counting, with the exact local time (and its zone) on hover and for screen readers. */
import { useNow } from '../lib/clock';
import { formatRelativeTime, formatTimestamp } from '../lib/format';

export function RelativeTime({ iso }: { iso: string }) {
  const now = useNow(1000);
  return (
    <time dateTime={iso} title={formatTimestamp(iso)}>
      {formatRelativeTime(iso, now)}
    </time>
  );
}
