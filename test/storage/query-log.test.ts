import { describe, expect, it } from 'vitest';
import { queryOperation } from '../../src/storage/query-log.js';

describe('queryOperation (the bounded label of storage query metrics)', () => {
  it('names the statement kind, and nothing else', () => {
    expect(queryOperation('select * from "evaluations" where "id" = ?')).toBe('select');
    expect(queryOperation('  INSERT INTO events VALUES ($1)')).toBe('insert');
    expect(queryOperation('update "evaluations" set "status" = $1')).toBe('update');
    expect(queryOperation('delete from jobs')).toBe('delete');
    expect(queryOperation('begin')).toBe('begin');
    expect(queryOperation('commit')).toBe('other');
    expect(queryOperation('with x as (select 1) select * from x')).toBe('other');
    expect(queryOperation('')).toBe('other');
  });
});
