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
});
