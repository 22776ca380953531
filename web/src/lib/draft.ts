/**
 * The editor's draft (code and run settings) survives reloads and closed tabs: it is saved to
 * localStorage shortly after every change. "Open in editor" on a past run replaces it, and sets
 * the replaced draft aside so the editor can offer it back (nothing the user wrote is lost).
 */
import { useEffect, useRef } from 'react';
import { ENVIRONMENTS, SANDBOX_BACKENDS, type Environment, type SandboxBackendName } from '../../../src/domain/evaluation';
import { LIMIT_BOUNDS, type LimitName } from '../../../src/domain/limits';

export const DRAFT_STORAGE_KEY = 'crucible.draft.v1';
export const SET_ASIDE_STORAGE_KEY = 'crucible.draft.set-aside.v1';
export const DRAFT_SAVE_DELAY_MS = 400;

/** A limit left empty (NaN) is not sent: the server's default applies. */
export type DraftLimits = Record<LimitName, number>;

export interface MetadataRow {
  key: string;
  value: string;
}

export interface Draft extends DraftLimits {
  code: string;
  stdin: string;
  /** Optional name shown in History; empty = none. */
  name: string;
  environment: Environment;
  sandbox: SandboxBackendName;
  tags: string[];
  /** Metadata as key/value rows (values sent as text). */
  metadata: MetadataRow[];
}

export const SAMPLE_CODE = `# Crucible runs this in an isolated sandbox. Ctrl/Cmd+Enter to run.
import sys, time

for i in range(5):
    print(f"step {i}: {i * i}")
    time.sleep(0.2)

print("done", file=sys.stderr)
`;

export const defaultDraft: Draft = {
  code: SAMPLE_CODE,
  stdin: '',
  name: '',
  environment: 'python',
  sandbox: 'bubblewrap',
  timeout_s: LIMIT_BOUNDS.timeout_s.default,
  memory_mb: LIMIT_BOUNDS.memory_mb.default,
  cpus: Number.NaN,
  max_processes: Number.NaN,
  max_output_bytes: Number.NaN,
  scratch_mb: Number.NaN,
  max_artifacts: Number.NaN,
  max_artifact_bytes: Number.NaN,
  tags: [],
  metadata: [],
};

const isOneOf = <T extends string>(list: readonly T[], v: unknown): v is T => typeof v === 'string' && (list as readonly string[]).includes(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isMetadataRow = (v: unknown): v is MetadataRow =>
  typeof v === 'object' && v !== null && typeof (v as MetadataRow).key === 'string' && typeof (v as MetadataRow).value === 'string';
export const LIMIT_NAMES = Object.keys(LIMIT_BOUNDS) as LimitName[];

/** Reads the draft, keeping every field that is well-formed and defaulting the rest. */
export function loadDraft(storage: Pick<Storage, 'getItem'> | null = safeStorage()): Draft {
  return parseDraft(readJson(storage, DRAFT_STORAGE_KEY));
}

function readJson(storage: Pick<Storage, 'getItem'> | null, key: string): unknown {
  try {
    return JSON.parse(storage?.getItem(key) ?? 'null');
  } catch {
    return null;
  }
}

function parseDraft(raw: unknown): Draft {
  if (typeof raw !== 'object' || raw === null) return { ...defaultDraft };
  const r = raw as Record<string, unknown>;
  return {
    code: typeof r.code === 'string' ? r.code : defaultDraft.code,
    stdin: typeof r.stdin === 'string' ? r.stdin : defaultDraft.stdin,
    name: typeof r.name === 'string' ? r.name : defaultDraft.name,
    environment: isOneOf(ENVIRONMENTS, r.environment) ? r.environment : defaultDraft.environment,
    sandbox: isOneOf(SANDBOX_BACKENDS, r.sandbox) ? r.sandbox : defaultDraft.sandbox,
    ...(Object.fromEntries(LIMIT_NAMES.map((n) => [n, isNum(r[n]) ? r[n] : defaultDraft[n]])) as DraftLimits),
    tags: Array.isArray(r.tags) ? r.tags.filter((t): t is string => typeof t === 'string') : defaultDraft.tags,
    metadata: Array.isArray(r.metadata) ? r.metadata.filter(isMetadataRow) : defaultDraft.metadata,
  };
}

/** A draft replaced by "Open in editor", kept until the user restores or dismisses it. */
export interface SetAsideDraft {
  draft: Draft;
  /** The evaluation whose code replaced it. */
  replacedBy: string;
}

type DraftStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/**
 * Makes `draft` (an evaluation's code and settings) the editor's draft. The draft it replaces
 * is set aside unless it holds nothing of the user's (empty, the sample, or the same code).
 */
export function openInEditor(draft: Draft, evaluationId: string, storage: DraftStorage | null = safeStorage()): void {
  const current = loadDraft(storage);
  const worthKeeping = current.code.trim() !== '' && current.code !== SAMPLE_CODE && current.code !== draft.code;
  try {
    if (worthKeeping) storage?.setItem(SET_ASIDE_STORAGE_KEY, JSON.stringify({ draft: current, replacedBy: evaluationId }));
  } catch {
    // Storage full or disabled: the draft below is not saved either, so nothing is replaced.
  }
  saveDraft(draft, storage);
}

export function readSetAsideDraft(storage: Pick<Storage, 'getItem'> | null = safeStorage()): SetAsideDraft | null {
  const raw = readJson(storage, SET_ASIDE_STORAGE_KEY) as { draft?: unknown; replacedBy?: unknown } | null;
  if (!raw || typeof raw !== 'object' || typeof raw.replacedBy !== 'string' || !raw.draft) return null;
  return { draft: parseDraft(raw.draft), replacedBy: raw.replacedBy };
}

export function forgetSetAsideDraft(storage: Pick<Storage, 'removeItem'> | null = safeStorage()): void {
  try {
    storage?.removeItem(SET_ASIDE_STORAGE_KEY);
  } catch {
    // storage disabled: there was nothing set aside
  }
}

export function saveDraft(draft: Draft, storage: Pick<Storage, 'setItem'> | null = safeStorage()): void {
  try {
    storage?.setItem(DRAFT_STORAGE_KEY, JSON.stringify(draft));
  } catch {
    // Quota exceeded or storage disabled (private mode): the draft just is not persisted.
  }
}

function safeStorage(): Storage | null {
  try {
    return typeof window === 'undefined' ? null : window.localStorage;
  } catch {
    return null;
  }
}

/** Saves `draft` DRAFT_SAVE_DELAY_MS after the last change, and immediately when the page is hidden. */
export function useDraftAutosave(draft: Draft, storage: Pick<Storage, 'setItem'> | null = safeStorage()): void {
  const latest = useRef(draft);
  latest.current = draft;
  useEffect(() => {
    const t = setTimeout(() => saveDraft(draft, storage), DRAFT_SAVE_DELAY_MS);
    return () => clearTimeout(t);
  }, [draft, storage]);
  useEffect(() => {
    const flush = () => saveDraft(latest.current, storage);
    window.addEventListener('pagehide', flush);
    return () => {
      window.removeEventListener('pagehide', flush);
      flush();
    };
  }, [storage]);
}
