import { acquireLock as acquireFileLock, LockHeldError } from '../../common/index.ts';

/** A harvest is running on this journal: one at a time, whichever process or server started it. */
export class JournalLockedError extends LockHeldError {
  override name = 'JournalLockedError';
  constructor(lockFile: string, pid: number) {
    super(
      lockFile,
      pid,
      `another harvest (pid ${pid}) is already running on this journal (${lockFile}); ` +
        `wait for it to finish, or if no such process exists remove the lock file`,
    );
  }
}

/** The journal's lock for one run; a JournalLockedError while another run holds it. */
export function acquireLock(lockFile: string): () => void {
  return acquireFileLock(lockFile, (file, pid) => new JournalLockedError(file, pid));
}
