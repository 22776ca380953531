/**
 * The inode cap of a scratch tmpfs (/tmp, /dev/shm). A tmpfs limited only in bytes lets a program
 * create empty files until their inodes and dentries (kernel memory, ~1 KB each, charged to the
 * sandbox) hit the memory limit: an inode flood ended as `oom` instead of `ENOSPC`. One inode per
 * page of the tmpfs's size (the most files that could each hold a byte), at least 1024.
 */
const BYTES_PER_INODE = 4096;
const MIN_INODES = 1024;

export function scratchInodes(sizeBytes: number): number {
  return Math.max(MIN_INODES, Math.floor(sizeBytes / BYTES_PER_INODE));
}
