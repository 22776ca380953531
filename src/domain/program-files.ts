/**
 * Multi-file programs: the files a request places in the sandbox's working directory, what it
 * runs (an entrypoint script or a whole command line), and the rules that keep both inside the
 * sandbox's working directory. Pure: used by the request schema, the sandbox adapter (which
 * builds the bundle crucible-init unpacks) and the UI.
 */
import { z } from 'zod';
import { REQUEST_BOUNDS } from './limits.js';

/** Where the files land inside every sandbox, and where artifacts are collected from. */
export const SANDBOX_WORKDIR = '/sandbox';
export const SANDBOX_OUTPUT_DIR = `${SANDBOX_WORKDIR}/out`;
/** The file `code` becomes, and the default entrypoint. */
export const MAIN_FILE = 'main.py';

/**
 * Why a path is refused, or null when it is a plain relative path: no leading `/`, no empty,
 * `.` or `..` segment, no backslash or control character (names a shell or a zip tool would
 * read differently), at most file_path_bytes.
 */
export function pathProblem(path: string): string | null {
  if (path.length === 0) return 'must not be empty';
  if (Buffer.byteLength(path, 'utf8') > REQUEST_BOUNDS.file_path_bytes) return `must be at most ${REQUEST_BOUNDS.file_path_bytes} bytes`;
  if (path.startsWith('/')) return 'must be relative (no leading /)';
  if ([...path].some((c) => c.charCodeAt(0) < 0x20 || c === '\u007f' || c === '\\')) return 'must not contain control characters or backslashes';
  const segments = path.split('/');
  if (segments.some((s) => s === '')) return 'must not have empty segments (// or a trailing /)';
  if (segments.some((s) => s === '..')) return 'must not contain ..';
  if (segments.some((s) => s === '.')) return 'must not contain . segments';
  return null;
}

export const FILE_ENCODINGS = ['utf-8', 'base64'] as const;

export const ProgramFile = z
  .object({
    path: z
      .string()
      .max(REQUEST_BOUNDS.file_path_bytes)
      .superRefine((p, ctx) => {
        const problem = pathProblem(p);
        if (problem) ctx.addIssue({ code: 'custom', message: `file path "${p.slice(0, 80)}" ${problem}` });
      })
      .describe('Relative path inside the working directory /sandbox, e.g. "pkg/util.py"'),
    content: z.string().describe('The file\'s content: text, or base64 when encoding is "base64"'),
    encoding: z.enum(FILE_ENCODINGS).default('utf-8').describe('How content is written: utf-8 text (default) or base64 bytes'),
  })
  .strict();
export type ProgramFile = z.infer<typeof ProgramFile>;

/** A file as bytes, ready to be placed in the sandbox. */
export interface ProgramFileBytes {
  path: string;
  content: Uint8Array;
}

export function fileBytes(file: ProgramFile): Uint8Array {
  return file.encoding === 'base64' ? new Uint8Array(Buffer.from(file.content, 'base64')) : new Uint8Array(Buffer.from(file.content, 'utf8'));
}

/** Decoded size of a file without decoding it. */
export function fileSize(file: ProgramFile): number {
  if (file.encoding === 'utf-8') return Buffer.byteLength(file.content, 'utf8');
  const padding = file.content.endsWith('==') ? 2 : file.content.endsWith('=') ? 1 : 0;
  return (file.content.length / 4) * 3 - padding;
}

/** What the sandbox runs: the command as given, or the environment's python on the entrypoint. */
export interface ProgramShape {
  /** main.py's content when the request gave `code`. */
  code?: string | null;
  files?: readonly ProgramFile[] | null;
  entrypoint?: string | null;
  command?: readonly string[] | null;
}

/** Every file of the program, `code` as main.py first. */
export function programFiles(p: ProgramShape): ProgramFileBytes[] {
  const files = (p.files ?? []).map((f) => ({ path: f.path, content: fileBytes(f) }));
  return p.code ? [{ path: MAIN_FILE, content: new Uint8Array(Buffer.from(p.code, 'utf8')) }, ...files] : files;
}

/** The argv to execute: the command, or `python` on the entrypoint (default main.py). */
export function programArgv(p: ProgramShape, python: string): string[] {
  if (p.command?.length) return [...p.command];
  return [python, p.entrypoint ?? MAIN_FILE];
}

/**
 * Checks that a request's program is whole: something to run, no path given twice, an entrypoint
 * that exists, and files that fit the bounds and the working directory's tmpfs. Returns the
 * problems as (field, message) pairs; empty when fine.
 */
export function programProblems(p: ProgramShape & { scratch_mb: number }): Array<{ path: string; message: string }> {
  const problems: Array<{ path: string; message: string }> = [];
  const files = p.files ?? [];
  if (!p.code && files.length === 0) {
    problems.push({ path: 'code', message: 'give code (the program as main.py) or files (a multi-file program), or both' });
    return problems;
  }
  if (p.entrypoint && p.command?.length) {
    problems.push({ path: 'command', message: 'give entrypoint (a script run with python) or command (an argv), not both' });
  }
  const seen = new Set<string>(p.code ? [MAIN_FILE] : []);
  const dirs = new Set<string>();
  for (const [i, f] of files.entries()) {
    if (seen.has(f.path)) {
      const why = p.code && f.path === MAIN_FILE ? ' (code is main.py already)' : '';
      problems.push({ path: `files.${i}.path`, message: `file path "${f.path}" is given more than once${why}` });
    }
    seen.add(f.path);
    const parts = f.path.split('/');
    for (let d = 1; d < parts.length; d++) dirs.add(parts.slice(0, d).join('/'));
  }
  for (const [i, f] of files.entries()) {
    if (dirs.has(f.path)) problems.push({ path: `files.${i}.path`, message: `file path "${f.path}" is also a directory of another file` });
  }
  const total = files.reduce((sum, f) => sum + fileSize(f), 0);
  if (total > REQUEST_BOUNDS.files_bytes) {
    problems.push({ path: 'files', message: `files must total at most ${REQUEST_BOUNDS.files_bytes} bytes (decoded); these are ${total}` });
  }
  const workdirBytes = total + (p.code ? Buffer.byteLength(p.code, 'utf8') : 0);
  if (workdirBytes > p.scratch_mb * 1024 * 1024) {
    problems.push({ path: 'files', message: `the files (${workdirBytes} bytes) do not fit in the working directory: raise scratch_mb above ${p.scratch_mb}` });
  }
  if (!p.command?.length) {
    const entry = p.entrypoint ?? MAIN_FILE;
    if (!seen.has(entry)) {
      problems.push({
        path: p.entrypoint ? 'entrypoint' : 'files',
        message: p.entrypoint
          ? `entrypoint "${entry}" is not one of the files`
          : `there is no ${MAIN_FILE} to run: add it to files, or give entrypoint (a script among the files) or command (an argv)`,
      });
    }
  }
  return problems;
}
