import { describe, expect, it } from 'vitest';
import {
  elapsedBetween,
  exitStatusText,
  formatBytes,
  formatDuration,
  formatMemoryLimit,
  formatPercent,
  formatRelativeTime,
  formatTimestamp,
  messageBeyondTitle,
} from './format';
import { guideIndexFor } from './exit-guide';
import { EXIT_CODE_GUIDE } from '../../../src/domain/exit-interpretation';

describe('formatBytes', () => {
  it.each([
    [null, '—'],
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KiB'],
    [268_435_456, '256 MiB'],
    [12.34 * 1_048_576, '12.3 MiB'],
    [2 * 1024 ** 3, '2 GiB'],
    [150.4 * 1_048_576, '150 MiB'],
  ])('%s → %s', (n, s) => expect(formatBytes(n)).toBe(s));
});

describe('formatDuration', () => {
  it.each([
    [null, '—'],
    [-5, '—'],
    [850, '850 ms'],
    [1234, '1.23 s'],
    [12_345, '12.3 s'],
    [75_000, '1m 15s'],
    [3_900_000, '1h 05m'],
  ])('%s → %s', (ms, s) => expect(formatDuration(ms)).toBe(s));
});

describe('exitStatusText', () => {
  it('shows the shell-style code and a short title', () => {
    expect(exitStatusText({ exit_code: null, signal: 'SIGKILL', reason: 'oom' })).toBe('137 · Memory limit exceeded');
    expect(exitStatusText({ exit_code: 0, signal: null, reason: 'exit_zero' })).toBe('0 · Exited normally');
    expect(exitStatusText({ exit_code: 1, signal: null, reason: 'exit_nonzero' })).toBe('1 · Program error');
    expect(exitStatusText({ exit_code: null, signal: 'SIGKILL', reason: 'timeout' })).toBe('137 · Time limit exceeded');
    expect(exitStatusText({ exit_code: null, signal: 'SIGSEGV', reason: 'signal' })).toBe('139 · Killed by a signal');
  });
  it('falls back when there is no code or reason', () => {
    expect(exitStatusText({ exit_code: null, signal: null, reason: 'platform_error' })).toBe('Platform error');
    expect(exitStatusText({ exit_code: null, signal: null, reason: null })).toBe('Finished');
  });
});

describe('small formats', () => {
  it('memory limits read like users say them', () => {
    expect(formatMemoryLimit(256)).toBe('256 MiB');
    expect(formatMemoryLimit(2048)).toBe('2 GiB');
    expect(formatMemoryLimit(1536)).toBe('1.5 GiB');
  });
  it('percent and elapsed', () => {
    expect(formatPercent(null)).toBe('—');
    expect(formatPercent(0.25)).toBe('25%');
    expect(formatPercent(0.034)).toBe('3.4%');
    expect(elapsedBetween('2025-01-01T00:00:00Z', '2025-01-01T00:00:01.5Z')).toBe(1500);
    expect(elapsedBetween(null, '2025-01-01T00:00:00Z')).toBeNull();
  });
  it('relative time', () => {
    const now = Date.parse('2025-01-01T01:00:00Z');
    expect(formatRelativeTime('2025-01-01T00:59:58Z', now)).toBe('just now');
    expect(formatRelativeTime('2025-01-01T00:59:30Z', now)).toBe('30 s ago');
    expect(formatRelativeTime('2025-01-01T00:55:00Z', now)).toBe('5 min ago');
    expect(formatRelativeTime('2024-12-31T22:00:00Z', now)).toBe('3 h ago');
  });

  it('names the time zone of a timestamp', () => {
    expect(formatTimestamp('2025-01-01T01:00:00Z')).toMatch(/ ([A-Z]{2,5}|GMT[+-][\d:]+)$/); // e.g. UTC, CET, GMT+2
    expect(formatTimestamp(null)).toBe('—');
  });
});

describe('messageBeyondTitle', () => {
  it('keeps only what the message adds to the title', () => {
    expect(messageBeyondTitle('Exited normally (exit 0).', 'exit_zero')).toBeNull();
    expect(messageBeyondTitle('Exited normally (exit 0); note: the process limit refused at least one fork.', 'exit_zero')).toBe(
      'Note: the process limit refused at least one fork.',
    );
    const oom = 'Memory limit exceeded (64 MiB): the kernel killed the process (exit 137).';
    expect(messageBeyondTitle(oom, 'oom')).toBe(oom);
    expect(messageBeyondTitle('Cancelled by a user; the sandbox was killed.', 'cancelled')).toBe('Cancelled by a user; the sandbox was killed.');
    expect(messageBeyondTitle(null, 'oom')).toBeNull();
  });
});

describe('exit code guide lookup', () => {
  it('finds exact codes, ranges and 128+n', () => {
    const row = (c: number) => EXIT_CODE_GUIDE[guideIndexFor(c, EXIT_CODE_GUIDE)]?.code;
    expect(row(137)).toBe('137');
    expect(row(1)).toBe('1');
    expect(row(42)).toBe('3–125');
    expect(row(143)).toBe('128 + n');
    expect(guideIndexFor(null, EXIT_CODE_GUIDE)).toBe(-1);
    expect(guideIndexFor(126, EXIT_CODE_GUIDE)).toBe(-1);
  });
});
