import { describe, expect, it } from 'vitest';
import { CODE_TITLE_MAX_LENGTH, codeTitle } from '../../src/domain/program-title.js';

describe('codeTitle: the first meaningful line of a program', () => {
  it('skips blank lines, comments, imports and bare docstring quotes', () => {
    const code = '#!/usr/bin/env python3\n# -*- coding: utf-8 -*-\n\n"""\nDocstring.\n"""\nimport sys\nfrom math import pi\n\nprint(pi)\n';
    expect(codeTitle(code)).toBe('Docstring.');
    expect(codeTitle('import os\n\n  result = solve(42)  \n')).toBe('result = solve(42)');
  });

  it('falls back to the first non-blank line, and is null for blank code', () => {
    expect(codeTitle('import numpy as np\n')).toBe('import numpy as np');
    expect(codeTitle('\n  \n')).toBeNull();
  });

  it('bounds the length', () => {
    const title = codeTitle(`x = "${'a'.repeat(500)}"`)!;
    expect(title.length).toBe(CODE_TITLE_MAX_LENGTH);
    expect(title.endsWith('…')).toBe(true);
  });
});
