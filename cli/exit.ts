export const EXIT = { OK: 0, FATAL: 1, SOME_FAILED: 2 } as const;

/** An error meant for the person at the command line: printed without a stack trace. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(message: string, readonly exitCode: number = EXIT.FATAL) {
    super(message);
  }
}
