// One training of a subject at a time, across processes (the CLI and an editor, two editors): a lock file
// beside the artifact, created atomically, naming its holder by host, PID and the PID's start time. A lock
// whose process is gone (killed, crashed), or whose PID was reused, is stale and taken over; temporary files
// such a process left behind are removed.
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
import { readRegularTextSync } from '../io/regular-file';

export class TrainingLockError extends Error {
  override name = 'TrainingLockError';
}

interface LockInfo {
  pid: number;
  host: string;
  /**
   * When the holder process started, as the kernel counts it (Linux: /proc/<pid>/stat's start time in clock
   * ticks since boot); null where that cannot be read. A PID reused by an unrelated process has another
   * start time, so its lock is known to be stale.
   */
  pidStart: string | null;
  startedAt: string;
}

/** Where the lock of subject `name` lives: beside its artifact folder. */
export function trainingLockPath(workspaceDir: string, name: string): string {
  return path.join(workspaceDir, '.yollava', `${name}.train.lock`);
}

/** How old a lock of another host must be before the message suggests it is left over. */
const OLD_FOREIGN_LOCK_MS = 24 * 3600 * 1000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The kernel's start time of `pid`, or null (not Linux, or no such process). */
function processStartTime(pid: number): string | null {
  try {
    // A kernel file (stat reports its size as 0, so it is read as a stream); not a path a workspace names.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null; // field 22 overall
  } catch {
    return null;
  }
}

/** Whether the process that wrote `held` still runs on this host: same PID and, where known, same start. */
function holderRuns(held: LockInfo): boolean {
  if (!Number.isInteger(held.pid) || held.pid <= 0 || !alive(held.pid)) return false;
  if (typeof held.pidStart !== 'string') return true; // an older lock, or not Linux: the PID is all we know
  const now = processStartTime(held.pid);
  return now === null || now === held.pidStart;
}

function readLock(file: string): LockInfo | null {
  try {
    const v = JSON.parse(readRegularTextSync(file, 'a training lock', 1 << 16)) as LockInfo;
    return v && typeof v === 'object' && typeof v.host === 'string' ? v : null;
  } catch {
    return null;
  }
}

/**
 * Takes the lock `file` for this process or throws TrainingLockError naming who holds it. Returns the
 * function that releases it. A lock of this host whose process is gone, or whose PID now belongs to another
 * process (its start time differs), is stale and taken over. Another host's process cannot be checked:
 * its lock stands, and the message says how to break it.
 */
export function acquireTrainingLock(file: string, what: string): () => void {
  mkdirSync(path.dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      try {
        const info: LockInfo = {
          pid: process.pid,
          host: os.hostname(),
          pidStart: processStartTime(process.pid),
          startedAt: new Date().toISOString(),
        };
        writeSync(fd, JSON.stringify(info));
      } finally {
        closeSync(fd);
      }
      return () => rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const held = readLock(file);
      const foreign = held !== null && held.host !== os.hostname();
      if (held && (foreign || holderRuns(held))) {
        const since = Date.parse(held.startedAt);
        const old = foreign && Number.isFinite(since) && Date.now() - since > OLD_FOREIGN_LOCK_MS;
        throw new TrainingLockError(
          `${what} is already being trained by process ${held.pid}${foreign ? ` on ${held.host}` : ''} since ${held.startedAt} (lock file ${file}); ` +
            (foreign
              ? `${old ? 'that lock is old and probably left over: ' : ''}if no training runs on ${held.host}, break the lock with \`yollava unlock\` (or delete the lock file)`
              : 'wait for it to finish, or stop it'),
        );
      }
      rmSync(file, { force: true }); // stale: its holder is gone (or it was never fully written)
    }
  }
  throw new TrainingLockError(`${what}: could not take the training lock ${file}`);
}

/**
 * Removes the lock `file` when its holder is not a running process of this host, or `force` is given (the
 * user says that another host's training is over). Returns what was removed, or why not.
 */
export function breakTrainingLock(file: string, force = false): { removed: boolean; why: string } {
  if (!existsSync(file)) return { removed: false, why: `${file}: no lock` };
  const held = readLock(file);
  if (held && held.host === os.hostname() && holderRuns(held))
    return {
      removed: false,
      why: `${file}: process ${held.pid} on this machine is training now; stop it instead`,
    };
  if (held && held.host !== os.hostname() && !force)
    return {
      removed: false,
      why: `${file}: held by process ${held.pid} on ${held.host} since ${held.startedAt}; if no training runs there, run again with --force`,
    };
  rmSync(file, { force: true });
  return {
    removed: true,
    why: `${file}: removed${held ? ` (left by process ${held.pid} on ${held.host} since ${held.startedAt})` : ' (unreadable)'}`,
  };
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
