/**
 * The embedded mode keeps its database and queue in one data directory that exactly one server
 * may own: a second server on the same directory would run the same queue twice. The lock file
 * holds the owner's pid; a lock whose owner is dead (e.g. SIGKILLed) is taken over.
 */
import fs from 'node:fs';
import path from 'node:path';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function lockDataDir(dataDir: string): () => void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, 'server.lock');
  for (let tries = 0; tries < 3; tries++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o600 });
      return () => {
        try {
          if (fs.readFileSync(file, 'utf8') === String(process.pid)) fs.unlinkSync(file);
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(fs.readFileSync(file, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new Error(`data directory ${dataDir} is in use by another Crucible server (pid ${owner}); stop it or choose another --data-dir`);
      }
      fs.rmSync(file, { force: true }); // stale: its owner is dead
    }
  }
  throw new Error(`could not lock data directory ${dataDir}`);
}
