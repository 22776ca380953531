/**
 * The environment of every sandboxed program, whatever the backend. Built from nothing: no
 * variable of the server's environment (tokens, database URLs) can leak into a sandbox.
 */
import { SANDBOX_OUTPUT_DIR } from '../domain/program-files.js';

export function sandboxEnvironment(): Record<string, string> {
  return {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: '/tmp',
    TMPDIR: '/tmp',
    LANG: 'C.UTF-8',
    // Unbuffered: output printed before a kill (timeout, OOM) reaches us instead of dying in a buffer.
    PYTHONUNBUFFERED: '1',
    PYTHONDONTWRITEBYTECODE: '1',
    // Files left here are collected as artifacts when the program ends.
    CRUCIBLE_OUTPUT_DIR: SANDBOX_OUTPUT_DIR,
  };
}
