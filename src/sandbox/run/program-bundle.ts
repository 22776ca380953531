/**
 * The program as crucible-init reads it from its program fd (format in native/sandbox-init.c):
 * its length, then the argv, the files of the working directory, and the artifact collection's
 * limits. Sent after the sandbox is set up, so a warm sandbox waits without knowing its program.
 */
import { programArgv, programFiles } from '../../domain/program-files.js';
import type { SandboxSpec } from '../../ports/sandbox.js';

export function programBundle(spec: SandboxSpec, python: string): Buffer {
  const parts: Buffer[] = [];
  for (const arg of programArgv(spec, python)) {
    const bytes = Buffer.from(arg, 'utf8');
    parts.push(Buffer.from(`arg ${bytes.length}\n`), bytes);
  }
  for (const file of programFiles(spec)) {
    const path = Buffer.from(file.path, 'utf8');
    parts.push(Buffer.from(`file ${path.length} ${file.content.byteLength}\n`), path, Buffer.from(file.content));
  }
  if (collectsArtifacts(spec)) parts.push(Buffer.from(`collect ${spec.limits.max_artifacts} ${spec.limits.max_artifact_bytes}\n`));
  parts.push(Buffer.from('run\n'));
  const records = Buffer.concat(parts);
  // Its length first: init starts the program once that many bytes are in, without waiting for
  // the end of the stream (which Node sends an event-loop turn after the bytes).
  return Buffer.concat([Buffer.from(`bundle ${records.length}\n`), records]);
}

/** Collection is off when either artifact limit is 0. */
export function collectsArtifacts(spec: Pick<SandboxSpec, 'limits'>): boolean {
  return spec.limits.max_artifacts > 0 && spec.limits.max_artifact_bytes > 0;
}
