import { spawn, type ChildProcessByStdio } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/reprise.js');

/** A line of the server's JSON log (undefined for any other line). */
export interface LogEvent {
  type?: string;
  url?: string;
  api?: string;
  status?: string;
}

export interface RepriseProcess<T> {
  /** What `until` answered for the line it waited for. */
  started: T;
  pid: number;
  stderr(): string;
  /** SIGTERM, then its exit code. */
  stop(): Promise<number | null>;
}

/**
 * `reprise ARGS` in a child process, as a user runs it, logging at info: resolves once `until`
 * answers something for a line of its output (its JSON log event, and the line itself); rejects,
 * with its stderr, when it exits first (`what`: what it exited before, for the message).
 */
export async function spawnReprise<T>(args: string[], env: Record<string, string>, what: string, until: (event: LogEvent | undefined, line: string) => T | undefined): Promise<RepriseProcess<T>> {
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, REPRISE_LOG__LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const started = await new Promise<T>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      let event: LogEvent | undefined;
      try {
        event = JSON.parse(line) as LogEvent;
      } catch {
        // not a log line
      }
      const answer = until(event, line);
      if (answer !== undefined) resolve(answer);
    });
    void exited.then((code) => reject(new Error(`reprise ${args[0]} exited (${code}) ${what}: ${stderr}`)));
  });
  return {
    started,
    pid: child.pid!,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

export interface ServeProcess {
  /** http://127.0.0.1:PORT */
  url: string;
  api: string;
  stderr(): string;
  stop(): Promise<number | null>;
}

/** `reprise serve --port 0` in a child process, as a user runs it; resolves once it listens. */
export async function startServe(env: Record<string, string>): Promise<ServeProcess> {
  const serve = await spawnReprise(['serve', '--port', '0'], env, 'before listening', (event) =>
    event?.type === 'listening' && event.url && event.api ? { url: event.url, api: event.api } : undefined,
  );
  return { ...serve.started, stderr: serve.stderr, stop: serve.stop };
}
