// @vitest-environment jsdom
import { act, cleanup, render } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RelativeTime } from './RelativeTime';

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date('2025-01-01T00:00:00Z'));
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

describe('RelativeTime', () => {
  it('keeps counting while shown, with the exact time in its tooltip', () => {
    render(
      <>
        <RelativeTime iso="2025-01-01T00:00:00Z" />
        <RelativeTime iso="2024-12-31T23:59:00Z" />
      </>,
    );
    const times = () => [...document.querySelectorAll('time')].map((t) => t.textContent);
    expect(times()).toEqual(['just now', '1 min ago']);
    act(() => vi.advanceTimersByTime(6000));
    expect(times()).toEqual(['6 s ago', '1 min ago']);
    expect(document.querySelector('time')?.getAttribute('title')).toMatch(/2025|2024/);
    expect(document.querySelector('time')?.getAttribute('dateTime')).toBe('2025-01-01T00:00:00Z');
  });

  it('stops its timer when nothing is shown', () => {
    const { unmount } = render(<RelativeTime iso="2025-01-01T00:00:00Z" />);
    expect(vi.getTimerCount()).toBe(1);
    unmount();
    expect(vi.getTimerCount()).toBe(0);
  });
});
