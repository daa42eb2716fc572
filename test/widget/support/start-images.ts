import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { tempDataDir } from '../../support/harvest-harness.ts';
import { spawnReprise } from '../../support/serve-process.ts';

export interface StartedImages {
  /** http://127.0.0.1:PORT */
  url: string;
  dataDir: string;
  stderr(): string;
  stop(): Promise<number | null>;
}

/** A folder of copies of the given photographs, in a temporary directory (the fixtures stay where they are). */
export function photoFolder(files: string[]): string {
  const dir = path.join(tempDataDir('reprise-native-photos-'), 'photos');
  mkdirSync(dir, { recursive: true });
  for (const file of files) copyFileSync(file, path.join(dir, path.basename(file)));
  return dir;
}

/**
 * `reprise start --images DIR --port 0 --no-pull` in a child process, as a user runs it: the
 * folder published as IIIF by the server and harvested into its index. Resolves once the harvest
 * has finished (the "ready" line); rejects when it did not complete.
 */
export async function startImages(images: string, env: Record<string, string>): Promise<StartedImages> {
  const dataDir = tempDataDir('reprise-native-data-');
  let url = '';
  const lines: string[] = [];
  const start = await spawnReprise(['start', '--port', '0', '--no-pull', '--images', images, '-d', dataDir], env, 'before its harvest finished', (event, line) => {
    lines.push(line);
    if (event?.type === 'listening' && event.url) url = event.url;
    return event?.type === 'ready' ? event : undefined;
  });
  if (start.started.status !== 'completed') {
    await start.stop();
    throw new Error(`the harvest of ${images} did not complete (${start.started.status}): ${lines.filter((l) => /"level":(40|50)|"type":"(ready|summary)"/.test(l)).join('\n')}${start.stderr()}`);
  }
  return { url, dataDir, stderr: start.stderr, stop: start.stop };
}
