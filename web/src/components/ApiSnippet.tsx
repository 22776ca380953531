/** The current draft as curl / Python / TypeScript, to run the same program from a script. */
import { useState } from 'react';
import type { CreateEvaluationInput } from '../../../src/domain/evaluation';
import { apiSnippet, SNIPPET_LANGUAGES, type SnippetLanguage } from '../lib/api-snippet';

const LABELS: Record<SnippetLanguage, string> = { curl: 'curl', python: 'Python SDK', typescript: 'TypeScript SDK' };

export function ApiSnippet({ body }: { body: CreateEvaluationInput }) {
  const [language, setLanguage] = useState<SnippetLanguage>('curl');
  const [copied, setCopied] = useState(false);
  const text = apiSnippet(language, body, window.location.origin);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      // no clipboard permission: the text can be selected by hand
    }
  };
  return (
    <details className="api-snippet" data-testid="api-snippet">
      <summary>Run this from code (curl, Python, TypeScript)</summary>
      <div className="toggle-group" role="group" aria-label="Snippet language">
        {SNIPPET_LANGUAGES.map((l) => (
          <button key={l} type="button" className="toggle" aria-pressed={l === language} onClick={() => setLanguage(l)}>
            {LABELS[l]}
          </button>
        ))}
        <button type="button" className="btn btn-ghost btn-sm" onClick={copy}>
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      <pre className="pre-block small" data-testid="api-snippet-text">
        {text}
      </pre>
    </details>
  );
}
