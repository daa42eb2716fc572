import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireFixtures } from '../support/fixtures.ts';
import { photographs, tempDataDir } from '../support/harvest-harness.ts';
import { tinyModel } from '../support/tiny-model.ts';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/reprise.js');

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** util-linux script(1) runs a command on a pseudo-terminal: the command sees a real TTY, as a person's shell gives it. */
const hasScript = () => spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

interface OnTerminal {
  /** Everything written to the terminal so far (stdout and stderr together, as a person sees them). */
  output(): string;
  waitFor(pattern: RegExp, ms: number): Promise<void>;
  /** Ctrl-C typed at the terminal; resolves with the exit code. */
  interrupt(): Promise<number | null>;
}

function onTerminal(args: string[], env: Record<string, string>): OnTerminal {
  // `exec`: script(1) runs the command through $SHELL -c, and dash (CI's /bin/sh) does not replace
  // itself with the last command; it would take the Ctrl-C too and exit 130 whatever reprise returns.
  const command = `exec ${[process.execPath, CLI, ...args].map(quote).join(' ')}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  const waiters: Array<() => void> = [];
  const onData = (c: Buffer) => {
    out += c.toString();
    for (const w of waiters.splice(0)) w();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return {
    output: () => out,
    async waitFor(pattern, ms) {
      const deadline = Date.now() + ms;
      while (!pattern.test(out)) {
        if (child.exitCode !== null) throw new Error(`exited (${child.exitCode}) before ${pattern}:\n${out}`);
        if (Date.now() > deadline) throw new Error(`no ${pattern} within ${ms} ms:\n${out}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 250);
        });
      }
    },
    interrupt() {
      child.stdin.write('\x03');
      const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      return exited.finally(() => clearTimeout(killer));
    },
  };
}

describe('reprise start on a terminal', function () {
  requireFixtures(this);
  this.timeout(120_000);

  before(function () {
    if (!hasScript()) this.skip();
  });

  it('shows the harvest as reprise harvest does: messages and a progress bar, no JSON lines', async () => {
    const photos = path.join(tempDataDir('reprise-start-tty-photos-'), 'photos');
    mkdirSync(photos, { recursive: true });
    for (const file of photographs('fsa-owi', 3)) copyFileSync(file, path.join(photos, path.basename(file)));
    const dataDir = tempDataDir('reprise-start-tty-');
    const term = onTerminal(['start', '--port', '0', '--images', photos, '-d', dataDir], {
      REPRISE_MODELS__PATH: await tinyModel('huggingface'),
      REPRISE_MODELS__THREADS: '1',
    });
    let code: number | null | undefined;
    try {
      await term.waitFor(/harvest completed: open http:\/\/127\.0\.0\.1:\d+\/demo\//, 90_000);
      const out = term.output();
      assert.match(out, /serving the search API at http:\/\/127\.0\.0\.1:\d+\/api/);
      // The bar of cli/progress.ts, drawn in place, at its end: every image done.
      assert.match(out, /images \S+ 3\/3 \| failed 0 \| manifests 1 \(failed 0\) \| canvases 3/);
      assert.match(out, /^\s+images:\s+3 indexed/m, 'the summary of reprise harvest');
      assert.doesNotMatch(out, /\{"level":/, 'no JSON log lines on a terminal');
    } finally {
      code = await term.interrupt();
    }
    assert.equal(code, 0, term.output());
    assert.match(term.output(), /SIGINT: finishing requests in flight/);
  });

  it('--json keeps one JSON line per event on a terminal too', async () => {
    const dataDir = tempDataDir('reprise-start-tty-json-');
    const photos = path.join(dataDir, 'photos');
    mkdirSync(photos, { recursive: true });
    copyFileSync(photographs('fsa-owi', 1)[0]!, path.join(photos, 'one.jpg'));
    const term = onTerminal(['start', '--json', '--port', '0', '--images', photos, '-d', path.join(dataDir, 'data'), '--no-pull'], {});
    try {
      await term.waitFor(/"type":"ready"/, 90_000);
      const lines = term.output().split(/\r?\n/).filter((l) => l.trim());
      assert.ok(lines.every((l) => l.startsWith('{"level":')), term.output());
    } finally {
      await term.interrupt();
    }
  });
});
