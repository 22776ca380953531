// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT_CODE_GUIDE } from '../../../src/domain/exit-interpretation';
import { ExitCard } from './ExitCard';

afterEach(cleanup);

const oom = {
  exit_code: null,
  signal: 'SIGKILL',
  reason: 'oom' as const,
  message: 'Memory limit exceeded (64 MiB): the kernel killed the process (exit 137).',
  metrics: { wall_ms: 1234, cpu_ms: 600, peak_memory_bytes: 64 * 1024 * 1024 },
};

describe('ExitCard', () => {
  it('shows code, reason, the human message and totals', () => {
    render(<ExitCard exit={oom} status="failed" guide={EXIT_CODE_GUIDE} />);
    expect(screen.getByTestId('exit-title').textContent).toBe('137 · Memory limit exceeded');
    expect(screen.getByText(oom.message)).toBeTruthy();
    expect(screen.getByText('oom')).toBeTruthy();
    expect(screen.getByText('1.23 s')).toBeTruthy();
    expect(screen.getByText('64 MiB')).toBeTruthy();
    expect(screen.getByTestId('exit-card').getAttribute('data-reason')).toBe('oom');
  });

  it('says where the code comes from once, and drops a message that only repeats the title', () => {
    render(
      <ExitCard exit={{ ...oom, reason: 'cancelled', message: 'Cancelled by a user; the sandbox was killed.' }} status="cancelled" guide={EXIT_CODE_GUIDE} />,
    );
    const card = screen.getByTestId('exit-card');
    expect(card.textContent).toContain('SIGKILL → 137 (128 + 9)');
    expect(card.textContent).not.toContain('exit code —');
    cleanup();

    const ok = { ...oom, signal: null, exit_code: 0, reason: 'exit_zero' as const, message: 'Exited normally (exit 0).' };
    render(<ExitCard exit={ok} status="completed" guide={EXIT_CODE_GUIDE} />);
    expect(screen.getByTestId('exit-card').textContent?.match(/Exited normally/g)).toHaveLength(1);
    expect(screen.getByText('exit code 0')).toBeTruthy();
  });

  it('explains the code in a dialog with the matching row highlighted', () => {
    render(<ExitCard exit={oom} status="failed" guide={EXIT_CODE_GUIDE} />);
    fireEvent.click(screen.getByRole('button', { name: 'What does 137 mean?' }));
    const dialog = screen.getByRole('dialog', { hidden: true });
    expect(within(dialog).getByText('SIGKILL')).toBeTruthy();
    const hit = dialog.querySelector('tr[aria-current="true"]');
    expect(hit?.textContent).toContain('128 + 9 (SIGKILL)');
  });
});
