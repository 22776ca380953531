/**
 * Write a program, choose its limits, run it, watch it. The draft is autosaved; the syntax is
 * checked by the server while typing and again before submitting, with errors shown as editor
 * markers and as a clickable list.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { editor as MonacoEditor } from 'monaco-esm/editor/editor.api.js';
import { isTerminal, type Evaluation } from '../../../src/domain/evaluation';
import { api } from '../lib/api-client';
import { useConfig } from '../lib/config';
import { forgetSetAsideDraft, loadDraft, readSetAsideDraft, useDraftAutosave, type Draft } from '../lib/draft';
import { formErrorsFrom, type FormErrors } from '../lib/field-errors';
import { draftToRequest } from '../lib/draft-request';
import { evaluationPath, Link } from '../lib/router';
import { useEvaluation } from '../lib/use-evaluation';
import { CodeEditor, type SyntaxIssue } from '../components/CodeEditor';
import { ApiSnippet } from '../components/ApiSnippet';
import { RunPanel } from '../components/RunPanel';
import { SetAsideNotice } from '../components/SetAsideNotice';
import { FORM_FIELDS, RunSettings, type FormField } from '../components/RunSettings';
import { EDITOR_WRAP_KEY, useWrapPreference } from '../lib/wrap-preference';

const LIVE_CHECK_DELAY_MS = 700;
/** The editor and the result stack (see styles.css); the same width as its media query. */
const ONE_COLUMN_QUERY = '(max-width: 1100px)';
const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);
const RUN_SHORTCUT = isMac ? '⌘↵' : 'Ctrl+↵';
/** Monaco's "toggle Tab key moves focus" binding. */
const TAB_FOCUS_SHORTCUT = isMac ? '⌃⇧M' : 'Ctrl+M';

type CheckState = { state: 'idle' | 'checking' | 'ok' | 'unavailable' } | { state: 'errors'; issues: SyntaxIssue[] };

export function EditorPage() {
  const config = useConfig();
  const [draft, setDraft] = useState<Draft>(() => loadDraft());
  useDraftAutosave(draft);
  // Bumped when the code is replaced from outside the editor (a restored draft).
  const [codeVersion, setCodeVersion] = useState(0);
  const [setAside, setSetAside] = useState(() => readSetAsideDraft());
  const [check, setCheck] = useState<CheckState>({ state: 'idle' });
  const [errors, setErrors] = useState<FormErrors<FormField>>({ fields: {}, general: [] });
  const [submitting, setSubmitting] = useState(false);
  const [run, setRun] = useState<Evaluation | null>(null);
  // The run shown here survives leaving the editor and coming back (per tab).
  const [runId, setRunId] = useState<string | null>(() => readCurrentRun());
  const runResource = useEvaluation(runId, run);
  // The run whose stream said it is over: its record is refetched, but the Run button must not
  // say "Run again" beside an exit card until the refetch lands.
  const [finishedRunId, setFinishedRunId] = useState<string | null>(null);
  const editorRef = useRef<MonacoEditor.IStandaloneCodeEditor | null>(null);
  const [wrap, setWrap] = useWrapPreference(EDITOR_WRAP_KEY);
  const submittingRef = useRef(false);
  const resultRef = useRef<HTMLElement | null>(null);
  const scrollToResult = useRef(false);
  // In the one-column layout the result is below the form: once a new run is on screen, show it.
  useEffect(() => {
    if (!scrollToResult.current || !runId) return;
    scrollToResult.current = false;
    if (window.matchMedia(ONE_COLUMN_QUERY).matches) resultRef.current?.scrollIntoView({ block: 'start' });
  }, [runId]);

  const update = <K extends keyof Draft>(key: K, value: Draft[K]) => {
    setDraft((d) => ({ ...d, [key]: value }));
    if (errors.fields[key as FormField]) setErrors((e) => ({ ...e, fields: { ...e.fields, [key]: undefined } }));
  };

  // Live syntax check while typing (debounced, cancelled by the next keystroke).
  useEffect(() => {
    if (!draft.code.trim()) {
      setCheck({ state: 'idle' });
      return;
    }
    const ctrl = new AbortController();
    const t = setTimeout(() => {
      setCheck((c) => (c.state === 'errors' ? c : { state: 'checking' }));
      api.syntaxCheck(draft.code, ctrl.signal).then(
        (r) => setCheck(r.ok ? { state: 'ok' } : { state: 'errors', issues: r.errors }),
        () => !ctrl.signal.aborted && setCheck({ state: 'unavailable' }),
      );
    }, LIVE_CHECK_DELAY_MS);
    return () => {
      clearTimeout(t);
      ctrl.abort();
    };
  }, [draft.code]);

  const submit = useCallback(
    async (skipCheck = false) => {
      if (submittingRef.current) return;
      submittingRef.current = true;
      setSubmitting(true);
      setErrors({ fields: {}, general: [] });
      try {
        if (!skipCheck && draft.code.trim()) {
          try {
            const r = await api.syntaxCheck(draft.code);
            if (!r.ok) {
              setCheck({ state: 'errors', issues: r.errors });
              return;
            }
            setCheck({ state: 'ok' });
          } catch {
            // The check is a convenience; if it is unavailable, the run itself will report errors.
          }
        }
        // Empty limit fields mean the server's default, not "null".
        const created = await api.create(draftToRequest(draft));
        setRun(created);
        setRunId(created.id);
        writeCurrentRun(created.id);
        scrollToResult.current = true;
      } catch (err) {
        setErrors(formErrorsFrom(err, FORM_FIELDS));
      } finally {
        submittingRef.current = false;
        setSubmitting(false);
      }
    },
    [draft],
  );

  // Ctrl/Cmd+Enter anywhere on the page (the editor handles it itself when focused).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && !e.defaultPrevented) {
        e.preventDefault();
        void submit();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [submit]);

  const closeSetAside = (restore: boolean) => {
    if (restore && setAside) {
      setDraft(setAside.draft);
      setCodeVersion((v) => v + 1);
    }
    forgetSetAsideDraft();
    setSetAside(null);
  };

  const issues = check.state === 'errors' ? check.issues : [];
  const goTo = (i: SyntaxIssue) => {
    const ed = editorRef.current;
    if (!ed) return;
    ed.setPosition({ lineNumber: i.line, column: Math.max(1, i.column) });
    ed.revealLineInCenter(i.line);
    ed.focus();
  };

  const runEval = runResource.evaluation ?? (run && run.id === runId ? run : null);
  // While a run is in flight, Run starts another one (the first keeps running): say so.
  const inFlight = runEval !== null && !isTerminal(runEval.status) && finishedRunId !== runEval.id;

  return (
    <div className="editor-page">
      <section className="editor-column" aria-label="Program">
        <div className="toolbar">
          <h1 className="page-title">New evaluation</h1>
          <SyntaxStatus check={check} />
          <div className="toolbar-spacer" />
          <button
            type="button"
            className="btn btn-primary"
            onClick={() => void submit()}
            disabled={submitting}
            aria-keyshortcuts="Control+Enter Meta+Enter"
            title={inFlight ? 'Start another run of this code; the current one keeps running' : undefined}
            data-testid="run"
          >
            {submitting ? 'Submitting…' : inFlight ? 'Run again' : 'Run'} <kbd>{RUN_SHORTCUT}</kbd>
          </button>
        </div>
        {setAside && <SetAsideNotice setAside={setAside} onRestore={() => closeSetAside(true)} onDismiss={() => closeSetAside(false)} />}
        <div className={`editor-frame${errors.fields.code ? ' invalid' : ''}`}>
          <CodeEditor
            value={draft.code}
            valueVersion={codeVersion}
            onChange={(v) => update('code', v)}
            onRun={() => void submit()}
            issues={issues}
            height="100%"
            label="Python program. Press Control+Enter to run; Control+M toggles whether Tab moves focus."
            editorRef={editorRef}
            wordWrap={wrap}
          />
        </div>
        <div className="editor-below">
          <p className="field-hint editor-hint" data-testid="tab-hint">
            Tab indents. <kbd>{TAB_FOCUS_SHORTCUT}</kbd> switches Tab to moving focus out of the editor (and back).
          </p>
          <button type="button" className="btn btn-ghost btn-sm" aria-pressed={wrap} onClick={() => setWrap(!wrap)} data-testid="editor-wrap">
            Wrap long lines
          </button>
        </div>
        {errors.fields.code && (
          <p className="field-error" role="alert">
            {errors.fields.code}
          </p>
        )}
        {issues.length > 0 && (
          <div className="syntax-errors" role="alert" data-testid="syntax-errors">
            <strong>Syntax {issues.length === 1 ? 'error' : 'errors'}</strong>
            <ul>
              {issues.map((i, n) => (
                <li key={n}>
                  <button type="button" className="link-button" onClick={() => goTo(i)}>
                    Line {i.line}, column {i.column}
                  </button>
                  : {i.message}
                </li>
              ))}
            </ul>
            <button type="button" className="btn btn-ghost btn-sm" onClick={() => void submit(true)} disabled={submitting}>
              Run anyway
            </button>
          </div>
        )}
        <RunSettings draft={draft} update={update} errors={errors} config={config} />
        <ApiSnippet body={draftToRequest(draft)} />
        {errors.general.length > 0 && (
          <div className="form-error" role="alert" data-testid="form-error">
            {errors.general.map((m, i) => (
              <p key={i}>{m}</p>
            ))}
          </div>
        )}
      </section>
      <section className="run-column" aria-label="Result" ref={resultRef}>
        {runEval ? (
          <RunPanel
            key={runEval.id}
            id={runEval.id}
            evaluation={runEval}
            onFinished={() => {
              setFinishedRunId(runEval.id);
              runResource.reload();
            }}
            onCancelled={runResource.set}
            header={
              <Link className="mono small run-link" href={evaluationPath(runEval.id)} title="Open the shareable detail page">
                {runEval.id} ↗
              </Link>
            }
          />
        ) : (
          <div className="run-placeholder">
            <h2>Nothing run yet</h2>
            <p className="muted">
              Press <kbd>{RUN_SHORTCUT}</kbd> or <strong>Run</strong>. The program runs in an isolated sandbox with the limits on the left; its status, output
              and resource use stream in here live.
            </p>
          </div>
        )}
      </section>
    </div>
  );
}

const CURRENT_RUN_KEY = 'crucible.editor.current-run';

function readCurrentRun(): string | null {
  try {
    return sessionStorage.getItem(CURRENT_RUN_KEY);
  } catch {
    return null;
  }
}

function writeCurrentRun(id: string): void {
  try {
    sessionStorage.setItem(CURRENT_RUN_KEY, id);
  } catch {
    // storage disabled: the run is still in History
  }
}

function SyntaxStatus({ check }: { check: CheckState }) {
  const text =
    check.state === 'checking'
      ? 'Checking syntax…'
      : check.state === 'ok'
        ? '✓ Syntax OK'
        : check.state === 'errors'
          ? `✕ ${check.issues.length} syntax ${check.issues.length === 1 ? 'error' : 'errors'}`
          : check.state === 'unavailable'
            ? 'Syntax check unavailable'
            : '';
  return (
    <span className={`syntax-status syntax-${check.state}`} aria-live="polite" data-testid="syntax-status">
      {text}
    </span>
  );
}
