/**
 * Byte counts for people, in binary units everywhere (API messages, CLI, web UI), because the
 * limits are binary too (memory_mb is MiB): 1536 → "1.5 KiB", 268435456 → "256 MiB", 2 GiB → "2 GiB".
 * Whole multiples print exactly; others keep up to three significant digits.
 */
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  if (Math.abs(bytes) < 1024) return `${Math.round(bytes)} B`;
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = Math.abs(value) >= 100 || Number.isInteger(value) ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${Number(value.toFixed(digits))} ${UNITS[unit]}`;
}

/** A limit given in MiB (memory_mb, scratch_mb): 512 → "512 MiB", 2048 → "2 GiB". */
export function formatMebibytes(mb: number): string {
  return formatBytes(mb * 1024 * 1024);
}
