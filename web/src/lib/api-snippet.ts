/**
 * The program and its settings as code to run it from elsewhere: curl, the Python SDK and the
 * TypeScript SDK. Kept in this one module so the SDK call shapes can be adjusted in one place.
 * Python: `from crucible import Crucible; Crucible(url).run(code, memory_mb=...)`.
 */
import type { CreateEvaluationInput } from '../../../src/domain/evaluation';

export const SNIPPET_LANGUAGES = ['curl', 'python', 'typescript'] as const;
export type SnippetLanguage = (typeof SNIPPET_LANGUAGES)[number];

/** Every field but the code, in the order the request has them. */
function settings(body: CreateEvaluationInput): Array<[string, unknown]> {
  return Object.entries(body).filter(([k, v]) => k !== 'code' && v !== undefined && !(Array.isArray(v) && v.length === 0));
}

/** A Python literal for a JSON value (True/False/None, dicts and lists). */
function python(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (Array.isArray(value)) return `[${value.map(python).join(', ')}]`;
  if (typeof value === 'object')
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}: ${python(v)}`)
      .join(', ')}}`;
  return JSON.stringify(value);
}

/** `'…'` for a POSIX shell: single quotes, with each ' written as '\''. */
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function apiSnippet(language: SnippetLanguage, body: CreateEvaluationInput, serverUrl: string): string {
  switch (language) {
    case 'curl':
      return [
        `curl -s -X POST ${shellQuote(`${serverUrl}/api/evaluations?wait=true`)} \\`,
        `  -H 'content-type: application/json' \\`,
        `  -d ${shellQuote(JSON.stringify(body))}`,
      ].join('\n');
    case 'python':
      return [
        'from crucible import Crucible',
        '',
        `code = ${JSON.stringify(body.code)}`,
        `result = Crucible(${JSON.stringify(serverUrl)}).run(`,
        '    code,',
        ...settings(body).map(([k, v]) => `    ${k}=${python(v)},`),
        ')',
        'print(result.status, result.stdout)',
      ].join('\n');
    case 'typescript':
      return [
        "import { Crucible } from 'crucible';",
        '',
        `const code = ${JSON.stringify(body.code)};`,
        `const result = await new Crucible(${JSON.stringify(serverUrl)}).run(code, {`,
        ...settings(body).map(([k, v]) => `  ${k}: ${JSON.stringify(v)},`),
        '});',
        'console.log(result.status, result.stdout);',
      ].join('\n');
  }
}
