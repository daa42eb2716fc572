import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { tempDataDir } from '../../support/harvest-harness.ts';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/reprise.js');

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
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(process.execPath, [CLI, 'start', '--port', '0', '--no-pull', '--images', images, '-d', dataDir], {
    env: { ...process.env, REPRISE_LOG__LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    return exited;
  };
  let url = '';
  const lines: string[] = [];
  const ready = await new Promise<{ status?: string }>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      try {
        const event = JSON.parse(line) as { type?: string; url?: string; status?: string };
        if (event.type === 'listening' && event.url) url = event.url;
        if (event.type === 'ready') resolve(event);
      } catch {
        // not a log line
      }
    });
    void exited.then((code) => reject(new Error(`reprise start exited (${code}) before its harvest finished: ${stderr}`)));
  });
  if (ready.status !== 'completed') {
    await stop();
    throw new Error(`the harvest of ${images} did not complete (${ready.status}): ${lines.filter((l) => /"level":(40|50)|"type":"(ready|summary)"/.test(l)).join('\n')}${stderr}`);
  }
  return { url, dataDir, stderr: () => stderr, stop };
}
