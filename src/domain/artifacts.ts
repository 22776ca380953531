/**
 * Artifacts: the files a program leaves in /sandbox/out, collected when it ends within
 * max_artifacts and max_artifact_bytes, stored with the evaluation and served by the API. What is
 * not collected is listed (the first DROPPED_LISTED, then only counted) with the reason.
 */
import { z } from 'zod';

export const DROP_REASONS = [
  'max_artifacts', // more files than max_artifacts
  'max_artifact_bytes', // the file does not fit in what is left of max_artifact_bytes (never read)
  'not_a_regular_file', // symlink, fifo, socket or device: never opened, never followed
  'too_deep', // directories nested deeper than 16
  'invalid_name', // a path too long, or not UTF-8
  'unreadable', // vanished or changed while collected
  'scan_limit', // more than 100 000 entries in /sandbox/out: the rest was not looked at
  'collection_incomplete', // the collection did not finish (the sandbox was killed, or took too long)
] as const;
export const DropReason = z.enum(DROP_REASONS);
export type DropReason = z.infer<typeof DropReason>;

/** Dropped files listed one by one; beyond, only their number (`dropped_more`). */
export const DROPPED_LISTED = 100;

export const ArtifactInfo = z.object({
  path: z.string().describe('Path relative to /sandbox/out'),
  size_bytes: z.number().int(),
  sha256: z.string().describe('SHA-256 of the content, hex'),
  content_type: z.string().describe('From the content, never the name: image/png, image/jpeg, image/gif, image/webp, text/plain or application/octet-stream'),
});
export type ArtifactInfo = z.infer<typeof ArtifactInfo>;

export const DroppedArtifact = z.object({
  path: z.string(),
  size_bytes: z.number().int().nullable().describe('Size when known'),
  reason: DropReason,
});
export type DroppedArtifact = z.infer<typeof DroppedArtifact>;

export const ArtifactList = z.object({
  items: z.array(ArtifactInfo),
  dropped: z.array(DroppedArtifact).describe(`Files left behind, the first ${DROPPED_LISTED}`),
  dropped_more: z.number().int().describe('Further dropped files, not listed'),
});
export type ArtifactList = z.infer<typeof ArtifactList>;

export interface CollectedArtifact extends ArtifactInfo {
  content: Uint8Array;
}

/** What a run collected (the sandbox's report; stored with the verdict). */
export interface CollectedArtifacts {
  items: CollectedArtifact[];
  dropped: DroppedArtifact[];
  dropped_more: number;
}

export const NO_ARTIFACTS: CollectedArtifacts = { items: [], dropped: [], dropped_more: 0 };

/** Image types served inline; recognised by their first bytes only. */
const IMAGE_SIGNATURES: ReadonlyArray<{ type: string; test: (b: Uint8Array) => boolean }> = [
  { type: 'image/png', test: (b) => startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  { type: 'image/jpeg', test: (b) => startsWith(b, [0xff, 0xd8, 0xff]) },
  { type: 'image/gif', test: (b) => startsWith(b, [0x47, 0x49, 0x46, 0x38, 0x37, 0x61]) || startsWith(b, [0x47, 0x49, 0x46, 0x38, 0x39, 0x61]) },
  // RIFF....WEBP
  { type: 'image/webp', test: (b) => startsWith(b, [0x52, 0x49, 0x46, 0x46]) && startsWith(b.subarray(8), [0x57, 0x45, 0x42, 0x50]) },
];

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((v, i) => bytes[i] === v);
}

export const INLINE_TYPES: readonly string[] = IMAGE_SIGNATURES.map((s) => s.type);

/**
 * The content type of an artifact, by its bytes: one of the four image types, text/plain for
 * UTF-8 without NUL, else application/octet-stream. A name (`.html`, `.svg`) never decides it,
 * so an HTML or SVG file is text/plain and never rendered by a browser.
 */
export function artifactContentType(bytes: Uint8Array): string {
  const image = IMAGE_SIGNATURES.find((s) => s.test(bytes));
  if (image) return image.type;
  if (bytes.includes(0)) return 'application/octet-stream';
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return 'text/plain; charset=utf-8';
  } catch {
    return 'application/octet-stream';
  }
}

/** Served inline (shown by the browser) only when it is one of the image types. */
export function servedInline(contentType: string): boolean {
  return INLINE_TYPES.includes(contentType);
}

/** The headers every artifact is served with: no sniffing, no scripts, no subresources, no framing. */
export const ARTIFACT_CSP = "default-src 'none'; sandbox";
