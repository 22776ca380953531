/**
 * Monaco editor for Python. Syntax errors from the server become markers (squiggles + hover) on
 * their lines; Ctrl/Cmd+Enter runs. Monaco comes from our own bundle (editor/monaco-setup), never
 * from a CDN.
 *
 * The editor owns its text. `value` is written into it on mount and again only when
 * `valueVersion` changes (an outside change such as restoring a draft). Feeding every render's
 * value back in (a controlled editor) writes stale text over keystrokes that arrived while React
 * was still rendering the previous one: on a slow machine characters vanish and the cursor jumps.
 */
import Editor, { type OnMount } from '@monaco-editor/react';
import { useEffect, useRef, type RefObject } from 'react';
import { monaco } from '../editor/monaco-setup';
import { CODE_PALETTES, type TokenKind } from '../code/palette';
import { useTheme, type Theme } from '../lib/theme';
import type { SyntaxCheckResponse } from '../../../src/domain/system-views';

export type SyntaxIssue = SyntaxCheckResponse['errors'][number];

interface Props {
  /** The text to show on mount, and after each change of `valueVersion`. */
  value: string;
  /** Bump to replace the editor's text with `value` (kept undoable with Ctrl/Cmd+Z). */
  valueVersion?: number;
  onChange?: (value: string) => void;
  onRun?: () => void;
  issues?: readonly SyntaxIssue[];
  readOnly?: boolean;
  height: number | string;
  label: string;
  /** Lets a parent move the cursor (e.g. clicking an error in the list). */
  editorRef?: RefObject<monaco.editor.IStandaloneCodeEditor | null>;
  /** Wrap long lines at the editor's width instead of scrolling sideways. */
  wordWrap?: boolean;
}

const MARKER_OWNER = 'crucible-syntax';

export function CodeEditor({ value, valueVersion = 0, onChange, onRun, issues = [], readOnly = false, height, label, editorRef, wordWrap = false }: Props) {
  const editor = useRef<monaco.editor.IStandaloneCodeEditor | null>(null);
  const shownVersion = useRef(valueVersion);
  const latest = useRef({ value, valueVersion });
  latest.current = { value, valueVersion };
  const runRef = useRef(onRun);
  runRef.current = onRun;
  // Monaco themes are global; @monaco-editor/react calls setTheme when this prop changes.
  const { theme } = useTheme();

  const onMount: OnMount = (ed) => {
    editor.current = ed;
    if (editorRef) editorRef.current = ed;
    // A version bumped while Monaco was still loading: show that text, not the first one.
    shownVersion.current = latest.current.valueVersion;
    replaceText(ed, latest.current.value);
    ed.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.Enter, () => runRef.current?.());
    applyMarkers(ed, issues);
  };

  useEffect(() => {
    if (editor.current) applyMarkers(editor.current, issues);
  }, [issues]);

  useEffect(() => {
    const ed = editor.current;
    if (!ed || shownVersion.current === valueVersion) return;
    shownVersion.current = valueVersion;
    replaceText(ed, value);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- only a new version replaces the text
  }, [valueVersion]);

  return (
    <div className="code-editor" data-testid={readOnly ? 'code-view' : 'code-editor'}>
      <Editor
        height={height}
        language="python"
        theme={MONACO_THEMES[theme]}
        defaultValue={value}
        onChange={(v) => onChange?.(v ?? '')}
        onMount={onMount}
        beforeMount={defineThemes}
        loading={<div className="editor-loading">Loading editor…</div>}
        options={{
          readOnly,
          domReadOnly: readOnly,
          wordWrap: wordWrap ? 'on' : 'off',
          minimap: { enabled: false },
          fontSize: 13,
          lineHeight: 20,
          fontFamily: 'ui-monospace, "JetBrains Mono", "SF Mono", Menlo, Consolas, monospace',
          scrollBeyondLastLine: false,
          automaticLayout: true,
          tabSize: 4,
          insertSpaces: true,
          renderLineHighlight: readOnly ? 'none' : 'line',
          padding: { top: 8, bottom: 8 },
          ariaLabel: label,
          accessibilitySupport: 'auto',
          fixedOverflowWidgets: true,
          scrollbar: { alwaysConsumeMouseWheel: false },
        }}
      />
    </div>
  );
}

/** Replaces the whole text as one edit, so Ctrl/Cmd+Z brings the previous text back. */
function replaceText(ed: monaco.editor.IStandaloneCodeEditor, text: string): void {
  const model = ed.getModel();
  if (!model || model.getValue() === text) return;
  ed.pushUndoStop();
  ed.executeEdits('crucible-replace', [{ range: model.getFullModelRange(), text }]);
  ed.pushUndoStop();
}

function applyMarkers(ed: monaco.editor.IStandaloneCodeEditor, issues: readonly SyntaxIssue[]): void {
  const model = ed.getModel();
  if (!model) return;
  const lines = model.getLineCount();
  monaco.editor.setModelMarkers(
    model,
    MARKER_OWNER,
    issues.map((i) => {
      const line = Math.min(Math.max(1, i.line), lines);
      const col = Math.max(1, i.column);
      const end = model.getLineMaxColumn(line);
      return {
        severity: monaco.MarkerSeverity.Error,
        message: i.message,
        startLineNumber: line,
        startColumn: Math.min(col, Math.max(1, end - 1)),
        endLineNumber: line,
        endColumn: end,
      };
    }),
  );
}

/**
 * Monaco's own light and dark themes (vs, vs-dark) with the page's code background and the
 * shared code palette, whose colours keep 4.5:1 contrast (also on the current line).
 */
export const MONACO_THEMES: Record<Theme, string> = { light: 'crucible-light', dark: 'crucible-dark' };

/** Monaco's Python token names → our token kinds. */
const MONACO_TOKENS: Array<[string, TokenKind]> = [
  ['', 'text'],
  ['identifier', 'text'],
  ['delimiter', 'text'],
  ['comment', 'comment'],
  ['keyword', 'keyword'],
  ['string', 'string'],
  ['string.escape', 'string'],
  ['number', 'number'],
  ['number.hex', 'number'],
  ['tag', 'decorator'],
];

function monacoTheme(theme: Theme): monaco.editor.IStandaloneThemeData {
  const p = CODE_PALETTES[theme];
  return {
    base: theme === 'dark' ? 'vs-dark' : 'vs',
    inherit: true,
    rules: MONACO_TOKENS.map(([token, kind]) => ({ token, foreground: p.tokens[kind].slice(1) })),
    colors: {
      'editor.foreground': p.tokens.text,
      'editor.background': p.background,
      'editor.lineHighlightBackground': p.lineHighlight,
      'editorGutter.background': p.background,
      'editorLineNumber.foreground': p.lineNumber,
      'editorLineNumber.activeForeground': p.lineNumberActive,
    },
  };
}

let themesDefined = false;
export function defineThemes(m: typeof monaco): void {
  if (themesDefined) return;
  themesDefined = true;
  for (const theme of ['light', 'dark'] as const) m.editor.defineTheme(MONACO_THEMES[theme], monacoTheme(theme));
}
