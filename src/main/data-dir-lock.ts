/**
 * The embedded mode keeps its database and queue in one data directory that exactly one server
 * may own: a second server on the same directory would run the same queue twice.
 *
 * The lock is SQLite's own exclusive lock on `server.lock` (a POSIX record lock the connection
 * holds for as long as it is open), so the kernel releases it the moment its holder dies: a
 * supervisor restarting a SIGKILLed server succeeds at once, with no stale pid to outlive, no
 * zombie that still looks alive and no recycled pid that looks alive forever. `server.pid` only
 * names the holder in the refusal message.
 */
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';

export const LOCK_FILE = 'server.lock';
const PID_FILE = 'server.pid';

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

function holderPid(dataDir: string): string {
  try {
    return fs.readFileSync(path.join(dataDir, PID_FILE), 'utf8').trim() || 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Takes the exclusive lock on the open connection; throws SQLITE_BUSY at once if another process holds it. */
function takeLock(file: string): BetterSqlite3.Database {
  const db = new BetterSqlite3(file, { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // The first write in EXCLUSIVE locking mode takes the exclusive lock, and it is never released
    // until the connection closes (or its process dies).
    db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL); DELETE FROM holder;');
    db.prepare('INSERT INTO holder (pid) VALUES (?)').run(process.pid);
    db.exec('COMMIT');
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

export function lockDataDir(dataDir: string): () => void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, LOCK_FILE);
  let db: BetterSqlite3.Database;
  try {
    db = takeLock(file);
  } catch (err) {
    if (isBusy(err)) {
      throw new Error(`data directory ${dataDir} is in use by another Crucible server (pid ${holderPid(dataDir)}); stop it or choose another --data-dir`);
    }
    if ((err as { code?: unknown }).code !== 'SQLITE_NOTADB') throw err;
    // A pid file left by an older Crucible version under the same name: nobody can hold it as a lock.
    fs.rmSync(file, { force: true });
    db = takeLock(file);
  }
  const pidFile = path.join(dataDir, PID_FILE);
  fs.writeFileSync(pidFile, String(process.pid), { mode: 0o600 });
  let released = false;
  return () => {
    if (released) return;
    released = true;
    try {
      if (fs.readFileSync(pidFile, 'utf8') === String(process.pid)) fs.rmSync(pidFile, { force: true });
    } catch {
      /* already gone */
    }
    db.close();
  };
}
