import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDataDir } from '../support/harvest-harness.ts';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/reprise.js');

describe('reprise errors on the command line', function () {
  this.timeout(60_000);

  it('shows a broken model folder as its message, without a stack trace', () => {
    const dataDir = tempDataDir('reprise-errors-');
    const broken = path.join(dataDir, 'broken-model');
    mkdirSync(broken, { recursive: true });
    writeFileSync(path.join(broken, 'config.json'), '{ not json');
    const run = spawnSync(process.execPath, [CLI, 'serve', '--port', '0'], {
      encoding: 'utf8',
      env: { ...process.env, REPRISE_DATA_DIR: dataDir, REPRISE_MODELS__PATH: broken },
    });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /^reprise: .*broken-model/m);
    assert.doesNotMatch(run.stderr, /fatal|\n\s+at /);
  });

  it('an unknown command is an error with --help too, not the general help and exit 0', () => {
    for (const args of [['nosuchcommand', '--help'], ['nosuchcommand'], ['models', 'nosuch', '--help']]) {
      const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
      assert.equal(run.status, 1, `reprise ${args.join(' ')}`);
      assert.match(run.stderr, /^error: unknown command '(nosuchcommand|nosuch)'/m, `reprise ${args.join(' ')}`);
      assert.equal(run.stdout, '', 'no help on stdout');
    }
    // Known commands still answer --help with their own help, and so does the help command.
    for (const args of [['search', '--help'], ['help', 'search'], ['models', 'pull', '--help'], ['reprints', 'photo.jpg', '--help']]) {
      const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
      assert.equal(run.status, 0, `reprise ${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stdout, new RegExp(`^Usage: reprise ${args[0] === 'help' ? args[1] : args[0]}`), `reprise ${args.join(' ')}`);
    }
    assert.match(spawnSync(process.execPath, [CLI, 'search', '--help'], { encoding: 'utf8' }).stdout, /Examples:\n\s+reprise search /);
  });
});
