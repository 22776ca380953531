import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { README, withGeneratedErrorTable } from '../../scripts/generate-error-table.js';
import { ERROR_CATALOGUE, type ErrorCode } from '../../src/domain/error-codes.js';
import { badRequest, conflict, type CrucibleError, notFound, unavailable } from '../../src/domain/errors.js';

describe('error catalogue', () => {
  it('is what the README documents (regenerate with `npx tsx scripts/generate-error-table.ts`)', () => {
    const readme = readFileSync(README, 'utf8');
    expect(readme).toBe(withGeneratedErrorTable(readme));
  });

  it('gives every code a 4xx or 5xx status, a sentence and a snake_case name', () => {
    for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
      expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
      expect(entry.status).toBeGreaterThanOrEqual(400);
      expect(entry.status).toBeLessThan(600);
      expect(entry.meaning.length).toBeGreaterThan(10);
    }
  });

  it('errors take their HTTP status from the catalogue, whatever helper raised them', () => {
    const raised: [CrucibleError, ErrorCode][] = [
      [notFound('evaluation', 'ev_x'), 'not_found'],
      [conflict('already_terminal', 'x'), 'already_terminal'],
      [badRequest('invalid_cursor', 'x'), 'invalid_cursor'],
      [unavailable('queue_full', 'x', 3), 'queue_full'],
    ];
    for (const [error, code] of raised) {
      expect(error.code).toBe(code);
      expect(error.httpStatus).toBe(ERROR_CATALOGUE[code].status);
    }
    expect(unavailable('queue_full', 'x', 3).retryAfterS).toBe(3);
  });
});
