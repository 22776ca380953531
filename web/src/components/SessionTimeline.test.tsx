// @vitest-environment jsdom
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { SessionEvent } from '../../../src/domain/session';
import { SessionTimeline } from './SessionTimeline';

afterEach(cleanup);

const at = '2026-12-03T10:00:00.000Z';
const exec: SessionEvent = {
  seq: 2,
  type: 'exec',
  at,
  data: {
    cmd: ['sh', '-c', 'printf "\\033[2J"; cat data.bin'],
    cwd: null,
    env_keys: [],
    stdin_bytes: 0,
    exit_code: 1,
    signal: null,
    reason: 'nonzero_exit',
    message: 'exited with code 1',
    stdout: '\u001b[2J\u0000ok\ufffd',
    stderr: '',
    stdout_bytes: 100_000,
    stderr_bytes: 0,
    stdout_truncated: false,
    stderr_truncated: false,
    wall_ms: 12,
  },
};

describe('SessionTimeline', () => {
  it('shows an exec: command, how it ended, output with control bytes as escapes and what was cut', () => {
    render(<SessionTimeline events={[exec]} />);
    expect(screen.getByTestId('exec-command').textContent).toBe(`$ sh -c 'printf "\\033[2J"; cat data.bin'`);
    expect(screen.getByTestId('exec-exit').textContent).toBe('exit 1');
    const out = screen.getByTestId('event-2-stdout');
    expect(out.querySelector('pre')!.textContent).toBe('\\x1b[2J\\0ok\ufffd');
    expect(out.textContent).toContain('of 97.7 KiB');
    expect(out.textContent).toContain('not UTF-8');
    expect(screen.queryByTestId('event-2-stderr')).toBeNull();
  });

  it('shows file writes and reads with size and sha256, and status changes with their reason', () => {
    const sha = 'ab'.repeat(32);
    render(
      <SessionTimeline
        events={[
          { seq: 1, type: 'file_write', at, data: { path: 'out/a.bin', size: 2048, sha256: sha } },
          { seq: 3, type: 'status', at, data: { status: 'ended', ended_reason: 'idle_timeout', message: 'idle for 300 s' } },
        ]}
      />,
    );
    const items = screen.getAllByRole('listitem');
    expect(items[0]!.textContent).toContain('Wrote out/a.bin 2 KiB');
    expect(items[0]!.textContent).toContain(`sha256 ${sha}`);
    expect(items[1]!.textContent).toContain('Ended idle_timeout — idle for 300 s');
  });
});
