import { describe, expect, it } from 'vitest';
import { EVALUATION_STATUSES, TERMINAL_STATUSES, isTerminal } from '../../src/domain/evaluation.js';
import { assertTransition, canTransition, IllegalTransitionError, sourcesOf } from '../../src/domain/state-machine.js';

describe('evaluation state machine', () => {
  it('follows the happy path queued → provisioning → running → completed', () => {
    expect(canTransition('queued', 'provisioning')).toBe(true);
    expect(canTransition('provisioning', 'running')).toBe(true);
    expect(canTransition('running', 'completed')).toBe(true);
  });

  it('never leaves a terminal state, whatever arrives late', () => {
    for (const from of TERMINAL_STATUSES) {
      for (const to of EVALUATION_STATUSES) expect(canTransition(from, to), `${from} → ${to}`).toBe(false);
    }
  });

  it('rejects skipping or reversing steps a program cannot take', () => {
    expect(canTransition('queued', 'running')).toBe(false);
    expect(canTransition('queued', 'completed')).toBe(false);
    expect(canTransition('running', 'provisioning')).toBe(false);
  });

  it('allows re-queueing only from states a worker holds (platform failures)', () => {
    expect(sourcesOf('queued').sort()).toEqual(['provisioning', 'running']);
  });

  it('explains why a move is illegal', () => {
    expect(() => assertTransition('completed', 'running')).toThrow(IllegalTransitionError);
    expect(() => assertTransition('completed', 'running')).toThrow(/already completed/);
    expect(() => assertTransition('queued', 'completed')).toThrow(/cannot move an evaluation from queued to completed/);
  });

  it('knows which states are terminal', () => {
    expect(EVALUATION_STATUSES.filter(isTerminal)).toEqual(['completed', 'failed', 'timeout', 'cancelled']);
  });
});
