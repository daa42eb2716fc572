import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest folder at or above `from` that holds a package.json. */
function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (dir === path.dirname(dir)) throw new Error(`no package.json above ${from}: Reprise's files are not where it was installed`);
  }
}

/**
 * Reprise's own folder (its package.json): the sources run from it (tests, development through
 * tsx), the compiled package from its `dist/`, one level deeper. Files that are not compiled (the
 * native binding, the reprint vocabulary, the widget's bundles and demo pages) are found from here,
 * so both find the same ones.
 */
export const PACKAGE_ROOT = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));
