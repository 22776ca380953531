/**
 * The environment of every sandboxed program, whatever the backend. Built from nothing: no
 * variable of the server's environment (tokens, database URLs) can leak into a sandbox.
 */
import { SANDBOX_OUTPUT_DIR } from '../domain/program-files.js';

export function sandboxEnvironment(): Record<string, string> {
  return {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    // The only writable places are the scratch tmpfs mounts: libraries that cache or configure
    // in the home directory (matplotlib's font cache, pytest's cache) write there.
    HOME: '/tmp',
    TMPDIR: '/tmp',
    // The working directory (bwrap --chdir, the OCI spec's cwd). bwrap exports PWD itself and runsc
    // does not: set here, a program sees the same variables on both.
    PWD: '/tmp',
    MPLCONFIGDIR: '/tmp/.config/matplotlib',
    LANG: 'C.UTF-8',
    // Output printed before a kill (timeout, OOM) must reach us instead of dying in a buffer. The
    // environments' site hook turns this unbuffered mode into line buffering (one write per line,
    // as on a terminal) unless the command line says -u; Pythons that skip site stay unbuffered.
    PYTHONUNBUFFERED: '1',
    PYTHONDONTWRITEBYTECODE: '1',
    // Files left here are collected as artifacts when the program ends.
    CRUCIBLE_OUTPUT_DIR: SANDBOX_OUTPUT_DIR,
  };
}
