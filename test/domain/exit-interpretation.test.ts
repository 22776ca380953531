import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/domain/limits.js';
import { interpretExit, NO_EXIT_FACTS, shellExitCode, type ExitFacts } from '../../src/domain/exit-interpretation.js';

const base: ExitFacts = { ...NO_EXIT_FACTS, exitCode: 0, limits: { ...DEFAULT_LIMITS, memory_mb: 256 } };

describe('exit interpretation', () => {
  it('exit 0 is completed', () => {
    expect(interpretExit(base)).toMatchObject({ status: 'completed', reason: 'exit_zero' });
  });

  it('a non-zero exit of its own is failed/exit_nonzero with the code in the message', () => {
    const v = interpretExit({ ...base, exitCode: 3 });
    expect(v).toMatchObject({ status: 'failed', reason: 'exit_nonzero' });
    expect(v.message).toContain('code 3');
  });

  it('SIGKILL with the OOM counter raised is oom, explained with the limit', () => {
    const v = interpretExit({ ...base, exitCode: null, signal: 'SIGKILL', oomKilled: true });
    expect(v).toMatchObject({ status: 'failed', reason: 'oom' });
    expect(v.message).toBe('Memory limit exceeded (256 MiB): the kernel killed the process (exit 137).');
  });

  it('a program that SIGKILLs itself is not an OOM', () => {
    expect(interpretExit({ ...base, exitCode: null, signal: 'SIGKILL' })).toMatchObject({ reason: 'signal' });
  });

  it('our timer wins over the kill it caused', () => {
    expect(interpretExit({ ...base, exitCode: null, signal: 'SIGKILL', timedOut: true })).toMatchObject({ status: 'timeout', reason: 'timeout' });
  });

  it('a timeout after refused forks says the process limit was hit', () => {
    const v = interpretExit({ ...base, exitCode: null, signal: 'SIGKILL', timedOut: true, pidsLimitHit: true });
    expect(v.reason).toBe('timeout');
    expect(v.message).toContain(`forks were refused at the process limit (max_processes ${base.limits.max_processes})`);
    expect(interpretExit({ ...base, exitCode: null, signal: 'SIGKILL', timedOut: true }).message).not.toContain('forks');
  });

  it('cancellation wins over the timeout and the kill', () => {
    expect(interpretExit({ ...base, exitCode: null, signal: 'SIGKILL', timedOut: true, cancelled: true })).toMatchObject({
      status: 'cancelled',
      reason: 'cancelled',
    });
  });

  it('a platform error is never blamed on the program', () => {
    const v = interpretExit({ ...base, exitCode: 1, platformError: 'bwrap: cannot create namespace' });
    expect(v).toMatchObject({ status: 'failed', reason: 'platform_error' });
    expect(v.message).toContain('bwrap: cannot create namespace');
  });

  it('pids exhaustion is the reason only when the program then failed', () => {
    expect(interpretExit({ ...base, exitCode: 1, pidsLimitHit: true })).toMatchObject({ reason: 'pids_limit' });
    const survived = interpretExit({ ...base, exitCode: 0, pidsLimitHit: true });
    expect(survived.reason).toBe('exit_zero');
    expect(survived.message).toContain('process limit');
  });

  it('an OOM kill of a child the program survived is reported, not blamed', () => {
    const v = interpretExit({ ...base, exitCode: 0, oomKilled: true });
    expect(v.reason).toBe('exit_zero');
    expect(v.message).toContain('memory limit');
  });

  it('output flood kill is output_limit', () => {
    expect(interpretExit({ ...base, exitCode: null, signal: 'SIGKILL', outputLimitKilled: true })).toMatchObject({ reason: 'output_limit', status: 'failed' });
  });

  it('a forbidden syscall is explained', () => {
    expect(interpretExit({ ...base, exitCode: null, signal: 'SIGSYS' }).message).toContain('forbidden system call');
  });

  it('computes shell-style exit codes', () => {
    expect(shellExitCode(3, null)).toBe(3);
    expect(shellExitCode(null, 'SIGKILL')).toBe(137);
    expect(shellExitCode(null, null)).toBe(null);
  });
});
