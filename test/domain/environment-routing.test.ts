/** The routing rules (src/domain/environment-routing.ts): the served set, and what a waiting user is told. */
import { describe, expect, it } from 'vitest';
import { parseEnvironmentList, servedEnvironments, unservedEnvironments, waitingReason } from '../../src/domain/environment-routing.js';

describe('parseEnvironmentList', () => {
  it('takes known names, trims them and drops repeats', () => {
    expect(parseEnvironmentList(' python, python-data ,python')).toEqual(['python', 'python-data']);
  });

  it('names every unknown environment and lists the known ones', () => {
    expect(() => parseEnvironmentList('python,pyton-data,ruby')).toThrow(
      '--environments: unknown environments "pyton-data", "ruby"; known: python, python-data, python-ml, python-3.13',
    );
    expect(() => parseEnvironmentList(' , ', 'CRUCIBLE_ENVIRONMENTS')).toThrow('CRUCIBLE_ENVIRONMENTS needs at least one environment');
  });
});

describe('servedEnvironments', () => {
  it('is everything available on the host unless narrowed', () => {
    expect(servedEnvironments(undefined, ['python', 'python-data'])).toEqual(['python', 'python-data']);
    expect(servedEnvironments(['python-data'], ['python', 'python-data'])).toEqual(['python-data']);
  });

  it('refuses an environment not available on the host, and a host with none', () => {
    expect(() => servedEnvironments(['python', 'python-ml'], ['python'])).toThrow(/names python-ml, not available on this host \(available here: python\)/);
    expect(() => servedEnvironments(undefined, [])).toThrow(/no environment is available on this host/);
  });
});

describe('waiting reasons', () => {
  const live = [{ environments: ['python' as const] }, { environments: ['python' as const, 'python-data' as const] }];

  it('none while a live worker serves the environment', () => {
    expect(waitingReason('python-data', live)).toBeNull();
  });

  it('says what is served instead, and how to serve it', () => {
    expect(waitingReason('python-ml', live)).toBe(
      'No live worker serves environment "python-ml" (live workers serve: python, python-data); it stays queued until one does: ' +
        'start one with `crucible worker --environments python-ml` (or `crucible serve --environments python-ml`) on a host where it is built (build it there with `crucible env build python-ml`).',
    );
    expect(waitingReason('python', [])).toMatch(/^No live worker is running, so nothing serves environment "python"; it stays queued/);
  });

  it('lists the known environments nobody serves', () => {
    expect(unservedEnvironments(live)).toEqual(['python-ml', 'python-3.13']);
    expect(unservedEnvironments([])).toEqual(['python', 'python-data', 'python-ml', 'python-3.13']);
  });
});
