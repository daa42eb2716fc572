import { spawn, type ChildProcessByStdio } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/reprise.js');

export interface ServeProcess {
  /** http://127.0.0.1:PORT */
  url: string;
  api: string;
  stderr(): string;
  stop(): Promise<number | null>;
}

/** `reprise serve --port 0` in a child process, as a user runs it; resolves once it listens. */
export async function startServe(env: Record<string, string>): Promise<ServeProcess> {
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(process.execPath, [CLI, 'serve', '--port', '0'], {
    env: { ...process.env, REPRISE_LOG__LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const lines = createInterface({ input: child.stdout });
  const listening = await new Promise<{ url: string; api: string }>((resolve, reject) => {
    lines.on('line', (line) => {
      try {
        const event = JSON.parse(line) as { type?: string; url?: string; api?: string };
        if (event.type === 'listening' && event.url && event.api) resolve({ url: event.url, api: event.api });
      } catch {
        // not a log line
      }
    });
    void exited.then((code) => reject(new Error(`reprise serve exited (${code}) before listening: ${stderr}`)));
  });
  return {
    ...listening,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
