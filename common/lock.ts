import path from 'node:path';
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { RepriseError } from './errors.ts';

/** Another live process holds the lock: the message says which, and what to do. */
export class LockHeldError extends RepriseError {
  override name = 'LockHeldError';
  constructor(
    readonly lockFile: string,
    readonly pid: number,
    message = `another process (pid ${pid}) holds the lock ${lockFile}; wait for it to finish, or if no such process exists remove the lock file`,
  ) {
    super(message);
  }
}

/** Says who holds a lock, in the words of what it protects (a harvest's journal, a model's download). */
export type LockHeld = (lockFile: string, pid: number) => LockHeldError;

/** Locks held by this process: a second run inside one process is refused like one from another process. */
const heldHere = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * An exclusive lock held for the duration of a run (a harvest, a model download): a file holding
 * the pid, created exclusively. A lock left behind by a killed process (kill -9, power loss) names
 * a dead pid and is taken over, so that the next cron run resumes instead of failing forever.
 * Returns the release; a held lock throws `held`'s error.
 */
export function acquireLock(lockFile: string, held: LockHeld = (file, pid) => new LockHeldError(file, pid)): () => void {
  const key = path.resolve(lockFile);
  if (heldHere.has(key)) throw held(lockFile, process.pid);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      heldHere.add(key);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        heldHere.delete(key);
        try {
          unlinkSync(lockFile);
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number.parseInt(readFileSafe(lockFile), 10);
      // Our own pid in a lock we do not hold: a restarted container reusing the pid of a killed run.
      if (Number.isFinite(pid) && pid !== process.pid && alive(pid)) throw held(lockFile, pid);
      try {
        unlinkSync(lockFile);
      } catch {
        /* someone else took it over first; the next attempt tells */
      }
    }
  }
  throw held(lockFile, Number.parseInt(readFileSafe(lockFile), 10) || -1);
}

function readFileSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
