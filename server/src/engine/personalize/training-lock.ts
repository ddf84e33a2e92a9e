// One training of a subject at a time, across processes (the CLI and an editor, two editors): a lock file
// beside the artifact, created atomically, naming its holder. A lock whose process is gone (killed, crashed)
// is stale and taken over; temporary files such a process left behind are removed.
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export class TrainingLockError extends Error {
  override name = 'TrainingLockError';
}

interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(file: string): LockInfo | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockInfo;
  } catch {
    return null;
  }
}

/**
 * Takes the lock `file` for this process or throws TrainingLockError naming who holds it. Returns the
 * function that releases it.
 */
export function acquireTrainingLock(file: string, what: string): () => void {
  mkdirSync(path.dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      try {
        const info: LockInfo = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() };
        writeSync(fd, JSON.stringify(info));
      } finally {
        closeSync(fd);
      }
      return () => rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const held = readLock(file);
      // Another machine's process cannot be checked: its lock stands.
      if (held && (held.host !== os.hostname() || alive(held.pid))) {
        throw new TrainingLockError(
          `${what} is already being trained by process ${held.pid}${held.host !== os.hostname() ? ` on ${held.host}` : ''} since ${held.startedAt} (lock file ${file}); wait for it to finish, or stop it`,
        );
      }
      rmSync(file, { force: true }); // stale: its holder is gone (or it was never fully written)
    }
  }
  throw new TrainingLockError(`${what}: could not take the training lock ${file}`);
}

/** Removes temporary files (".name.PID.TIME.tmp") in `dir` whose writing process no longer runs. */
export function removeStaleTemporaries(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const removed: string[] = [];
  for (const f of readdirSync(dir)) {
    const m = /^\..*\.(\d+)\.\d+\.tmp$/.exec(f);
    if (m && !alive(Number(m[1]))) {
      rmSync(path.join(dir, f), { force: true });
      removed.push(f);
    }
  }
  return removed;
}
