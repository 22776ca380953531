import { describe, expect, it } from 'vitest';
import { apiSnippet } from './api-snippet';

const body = { code: "print('hi')\n", name: "it's mine", memory_mb: 64, tags: ['a'], metadata: { ok: true } };

describe('API snippets', () => {
  it('curl sends the exact request body, shell-quoted', () => {
    const s = apiSnippet('curl', body, 'http://h:1');
    expect(s).toContain("'http://h:1/api/evaluations?wait=true'");
    const quoted = s.slice(s.indexOf('-d ') + 3);
    // Undo the shell quoting: the body comes back byte for byte.
    const unquoted = quoted.slice(1, -1).replace(/'\\''/g, "'");
    expect(JSON.parse(unquoted)).toEqual(body);
  });

  it('Python and TypeScript pass every setting as a keyword / option', () => {
    const py = apiSnippet('python', body, 'http://h:1');
    expect(py).toContain('Crucible("http://h:1").run(');
    expect(py).toContain('memory_mb=64,');
    expect(py).toContain('metadata={"ok": True},');
    expect(py).toContain(`code = ${JSON.stringify(body.code)}`);
    const ts = apiSnippet('typescript', body, 'http://h:1');
    expect(ts).toContain('new Crucible("http://h:1").run(code, {');
    expect(ts).toContain('tags: ["a"],');
  });
});
