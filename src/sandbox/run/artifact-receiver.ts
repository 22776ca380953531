/**
 * The host's side of artifact collection: crucible-init's collector writes what it found in
 * /sandbox/out to the status fd after the program's "exit" (see collect() in
 * native/sandbox-init.c). The collector is our code, but it runs in the sandbox: everything it
 * says is checked again here, so nothing it sends can take more than the run's limits in the
 * server's memory (count, total bytes, listed drops) or name a path outside the output folder.
 * Frames beyond the limits end the collection as incomplete; the rest is discarded unread.
 */
import { createHash } from 'node:crypto';
import { artifactContentType, DROP_REASONS, DROPPED_LISTED, type CollectedArtifacts, type DropReason } from '../../domain/artifacts.js';
import { pathProblem } from '../../domain/program-files.js';

export class ArtifactReceiver {
  private readonly items: CollectedArtifacts['items'] = [];
  private readonly dropped: CollectedArtifacts['dropped'] = [];
  private droppedMore = 0;
  private bytes = 0;
  /** Set once "collected" arrived: the collection is whole. */
  complete = false;
  /** Set when the collector broke a rule: nothing more is accepted. */
  private refused = false;

  constructor(private readonly limits: { max_artifacts: number; max_artifact_bytes: number }) {}

  /** May a body of `size` bytes for an artifact follow? (Checked before it is buffered.) */
  accepts(size: number): boolean {
    const ok = !this.refused && !this.complete && this.items.length < this.limits.max_artifacts && this.bytes + size <= this.limits.max_artifact_bytes;
    if (!ok) this.refused = true;
    return ok;
  }

  artifact(pathBytes: Buffer, content: Buffer): void {
    const path = decodePath(pathBytes);
    if (path === null) return this.drop('invalid_name', pathBytes.toString('utf8'), content.length);
    this.bytes += content.length;
    const bytes = new Uint8Array(content);
    this.items.push({
      path,
      size_bytes: bytes.byteLength,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      content_type: artifactContentType(bytes),
      content: bytes,
    });
  }

  drop(reason: string, path: string, size: number | null): void {
    if (this.refused || this.complete) return;
    const known = (DROP_REASONS as readonly string[]).includes(reason) ? (reason as DropReason) : 'unreadable';
    if (this.dropped.length >= DROPPED_LISTED) this.droppedMore++;
    else this.dropped.push({ path, size_bytes: size !== null && size >= 0 ? size : null, reason: known });
  }

  collected(more: number): void {
    if (this.refused) return;
    this.complete = true;
    this.droppedMore += Number.isSafeInteger(more) && more > 0 ? more : 0;
  }

  /** What was received; an unfinished collection says so as a dropped entry. */
  result(): CollectedArtifacts {
    const dropped = [...this.dropped];
    if (!this.complete) dropped.push({ path: '', size_bytes: null, reason: 'collection_incomplete' });
    return { items: this.items, dropped, dropped_more: this.droppedMore };
  }
}

/** A collected path as text, or null when it is not UTF-8 or not a plain relative path. */
function decodePath(bytes: Buffer): string | null {
  const text = bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(bytes)) return null;
  return pathProblem(text) === null ? text : null;
}
