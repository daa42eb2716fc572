import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The shared test material lives beside the repository, never inside it. */
export const FIXTURES = process.env.REPRISE_FIXTURES
  ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/fixtures');

export const fixturesPresent = existsSync(FIXTURES);

export function fixture(...parts: string[]): string {
  return path.join(FIXTURES, ...parts);
}

/** Call at the top of a describe() whose tests need ../shared/fixtures. */
export function requireFixtures(ctx: Mocha.Suite): void {
  ctx.beforeAll(function () {
    if (!fixturesPresent) {
      console.warn(`skipping: shared fixtures not found at ${FIXTURES} (set REPRISE_FIXTURES)`);
      this.skip();
    }
  });
}
