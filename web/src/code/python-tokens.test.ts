import { describe, expect, it } from 'vitest';
import { tokenizePython, type Token } from './python-tokens';

const kinds = (line: Token[]) => line.filter((t) => t.text.trim() !== '').map((t) => `${t.kind}:${t.text.trim()}`);

describe('tokenizePython', () => {
  it('never loses a character', () => {
    const code =
      'import sys\n@dataclass\nclass A(B):\n    def f(self, x=0x1F, y=1.5e-3j):\n        s = rb"\\"q" + f\'{x}\'  # note\n        """doc\n  still doc\n"""; print(é, s)\n\t\n';
    expect(tokenizePython(code).map((l) => l.map((t) => t.text).join(''))).toEqual(code.split('\n'));
  });

  it('classifies keywords, builtins, names after def/class, numbers, strings, comments and decorators', () => {
    const [deco, cls, def, body] = tokenizePython('@app.route\nclass Shape:\n  def area(self):\n    return len("x") * 2  # sq');
    expect(kinds(deco ?? [])).toEqual(['decorator:@app.route']);
    expect(kinds(cls ?? [])).toEqual(['keyword:class', 'function:Shape', 'text::']);
    expect(kinds(def ?? [])).toEqual(['keyword:def', 'function:area', 'text:(', 'builtin:self', 'text:):']);
    expect(kinds(body ?? [])).toEqual(['keyword:return', 'builtin:len', 'text:(', 'string:"x"', 'text:) *', 'number:2', 'comment:# sq']);
  });

  it('carries a triple-quoted string across lines', () => {
    const lines = tokenizePython('x = """a\n# not a comment\nb""" + 1');
    expect(kinds(lines[1] ?? [])).toEqual(['string:# not a comment']);
    expect(kinds(lines[2] ?? [])).toEqual(['string:b"""', 'text:+', 'number:1']);
  });
});
