import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';

/**
 * Fetched images, addressed by their sha256. Keeping them lets a resumed run skip
 * images fetched before a kill, and lets a later model re-index without downloading again.
 */
export class ImageCache {
  constructor(readonly dir: string) {}

  private pathOf(hash: string): string {
    return path.join(this.dir, hash.slice(0, 2), hash);
  }

  has(hash: string): boolean {
    return existsSync(this.pathOf(hash));
  }

  get(hash: string): Buffer | undefined {
    try {
      return readFileSync(this.pathOf(hash));
    } catch {
      return undefined;
    }
  }

  /** Written to a temporary name then renamed, so a kill never leaves a torn file under the real name. */
  put(hash: string, bytes: Buffer): void {
    const file = this.pathOf(hash);
    if (existsSync(file)) return;
    mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, file);
  }

  delete(hash: string): void {
    rmSync(this.pathOf(hash), { force: true });
  }
}
