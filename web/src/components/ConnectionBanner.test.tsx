// @vitest-environment jsdom
import { act, cleanup, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { reportNetworkFailure, reportNetworkSuccess } from '../lib/connection';
import { ConnectionBanner } from './ConnectionBanner';

describe('ConnectionBanner', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => {
    act(() => reportNetworkSuccess());
    cleanup();
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('appears when the server is lost and clears itself once /healthz answers again', async () => {
    let up = false;
    const fetchMock = vi.fn(async () => {
      if (!up) throw new TypeError('Failed to fetch');
      return new Response('{"status":"ok"}', { status: 200 });
    });
    vi.stubGlobal('fetch', fetchMock);
    render(<ConnectionBanner />);
    expect(screen.queryByRole('status')).toBeNull();

    act(() => reportNetworkFailure());
    expect(screen.getByRole('status').textContent).toMatch(/reconnecting/);

    await act(async () => {
      await vi.advanceTimersByTimeAsync(3500);
    });
    expect(fetchMock).toHaveBeenCalledWith('/healthz', expect.anything());
    expect(screen.getByRole('status')).toBeTruthy(); // still down

    up = true;
    await act(async () => {
      await vi.advanceTimersByTimeAsync(3500);
    });
    expect(screen.queryByRole('status')).toBeNull();
  });
});
