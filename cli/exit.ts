import { RepriseError } from '../common/index.ts';

/**
 * The exit codes (docs/cron.md's table lists them). A run stopped by SIGINT (Ctrl-C) or SIGTERM
 * exits with 128 + the signal's number, as a shell reports a process the signal killed, whether
 * it stopped cleanly (the run recorded as interrupted) or at once on a second signal.
 */
export const EXIT = { OK: 0, FATAL: 1, SOME_FAILED: 2, INTERRUPTED_SIGINT: 130, INTERRUPTED_SIGTERM: 143 } as const;

export const EXIT_ON_SIGNAL = { SIGINT: EXIT.INTERRUPTED_SIGINT, SIGTERM: EXIT.INTERRUPTED_SIGTERM } as const;

export type StopSignal = keyof typeof EXIT_ON_SIGNAL;

/** An error meant for the person at the command line: printed without a stack trace. */
export class CliError extends RepriseError {
  override name = 'CliError';
  constructor(message: string, readonly exitCode: number = EXIT.FATAL) {
    super(message);
  }
}
