import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

export class JournalLockedError extends Error {
  override name = 'JournalLockedError';
  constructor(readonly lockFile: string, readonly pid: number) {
    super(
      `another harvest (pid ${pid}) is already running on this journal (${lockFile}); ` +
        `wait for it to finish, or if no such process exists remove the lock file`,
    );
  }
}

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
 * An exclusive lock held for the duration of a run. A lock left behind by a
 * killed process (kill -9, power loss) names a dead pid and is taken over, so
 * that the next cron run resumes instead of failing forever.
 */
export function acquireLock(lockFile: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          unlinkSync(lockFile);
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number.parseInt(readFileSafe(lockFile), 10);
      if (Number.isFinite(pid) && pid !== process.pid && alive(pid)) throw new JournalLockedError(lockFile, pid);
      try {
        unlinkSync(lockFile);
      } catch {
        /* someone else took it over first; the next attempt tells */
      }
    }
  }
  throw new JournalLockedError(lockFile, Number.parseInt(readFileSafe(lockFile), 10) || -1);
}

function readFileSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
