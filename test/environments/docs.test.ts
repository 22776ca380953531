import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENVIRONMENTS_DOC, withGeneratedEnvironments } from '../../scripts/generate-environment-docs.js';

describe('docs/environments.md', () => {
  it('lists what each environment contains as its manifest and lock say (regenerate with `npx tsx scripts/generate-environment-docs.ts`)', () => {
    const doc = readFileSync(ENVIRONMENTS_DOC, 'utf8');
    expect(withGeneratedEnvironments(doc)).toBe(doc);
  });
});
