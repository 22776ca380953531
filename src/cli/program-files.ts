/**
 * What `crucible run` sends for the paths it is given: one file is `code` (main.py); several
 * files, or a directory, are `files` (paths relative to the directory, or to the current one),
 * text as UTF-8 and anything else as base64. Hidden entries and __pycache__ are left out of a
 * directory; the server checks the bounds and says what is wrong.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { CreateEvaluationInput } from '../domain/evaluation.js';
import { pathProblem, type ProgramFile } from '../domain/program-files.js';

type ProgramInput = Pick<CreateEvaluationInput, 'code' | 'files' | 'entrypoint'>;

export function readSource(file: string): string {
  try {
    return file === '-' ? fs.readFileSync(0, 'utf8') : fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
}

export function programFromPaths(paths: readonly string[]): ProgramInput {
  if (paths.length === 1 && (paths[0] === '-' || !isDirectory(paths[0]!))) return { code: readSource(paths[0]!) };
  if (paths.includes('-')) throw new Error('- (standard input) can only be the one file given');
  if (paths.length === 1) return { files: directoryFiles(paths[0]!) };
  const files = paths.map((p) => fileEntry(p, relativeName(p)));
  // The first file given is what runs.
  return { files, entrypoint: files[0]!.path };
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** A path relative to the current directory when it is inside it, else the file's name. */
function relativeName(p: string): string {
  const rel = path.relative(process.cwd(), path.resolve(p)).split(path.sep).join('/');
  return pathProblem(rel) === null ? rel : path.basename(p);
}

function directoryFiles(dir: string): ProgramFile[] {
  const files: ProgramFile[] = [];
  const walk = (sub: string) => {
    for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith('.') || entry.name === '__pycache__') continue;
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(rel);
      else if (entry.isFile()) files.push(fileEntry(path.join(dir, rel), rel));
    }
  };
  walk('');
  if (files.length === 0) throw new Error(`${dir} has no files to send`);
  return files;
}

function fileEntry(file: string, name: string): ProgramFile {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
  const text = bytes.toString('utf8');
  const isText = !bytes.includes(0) && Buffer.from(text, 'utf8').equals(bytes);
  return isText ? { path: name, content: text, encoding: 'utf-8' } : { path: name, content: bytes.toString('base64'), encoding: 'base64' };
}

/**
 * Saves an evaluation's artifacts under `dir`, each at its listed path (which the server only
 * ever gives as a plain relative path; checked again so nothing lands outside `dir`).
 */
export function artifactTarget(dir: string, artifactPath: string): string {
  if (pathProblem(artifactPath) !== null) throw new Error(`refusing to save an artifact at ${JSON.stringify(artifactPath)}`);
  return path.join(dir, ...artifactPath.split('/'));
}
