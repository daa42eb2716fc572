import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, ConfigError } from '../../config/index.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'reprise-config-'));

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    return err.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('config', () => {
  it('works without a file or variables', () => {
    const c = loadConfig({ env: {} });
    assert.equal(c.harvest.imageSize, 640);
    assert.equal(c.dataDir, './reprise-data');
    assert.deepEqual(c.harvest.http.allowPrivate, []);
  });

  it('reads nested keys from REPRISE_* variables with their types', () => {
    const c = loadConfig({
      env: {
        REPRISE_HARVEST__HTTP__CONCURRENCY: '3',
        REPRISE_HARVEST__HTTP__ALLOW_PRIVATE: '127.0.0.1, localhost',
        REPRISE_HARVEST__KEEP_IMAGES: 'false',
        REPRISE_DATA_DIR: '/srv/reprise',
        REPRISE_FIXTURES: '/ignored',
        REPRISE_LOCAL_FEATURES: 'required',
        REPRISE_CHROMIUM: '/usr/bin/chromium',
      },
    });
    assert.equal(c.harvest.http.concurrency, 3);
    assert.deepEqual(c.harvest.http.allowPrivate, ['127.0.0.1', 'localhost']);
    assert.equal(c.harvest.keepImages, false);
    assert.equal(c.dataDir, '/srv/reprise');
  });

  it('reads api.trustProxy as hops, a flag, a list or a name', () => {
    const trust = (value: string) => loadConfig({ env: { REPRISE_API__TRUST_PROXY: value } }).api.trustProxy;
    assert.equal(trust('1'), 1);
    assert.equal(trust('true'), true);
    assert.deepEqual(trust('["10.0.0.0/8", "loopback"]'), ['10.0.0.0/8', 'loopback']);
    assert.equal(trust('loopback'), 'loopback');
    assert.equal(loadConfig({ env: {} }).api.trustProxy, undefined);
  });

  it('names the bad key, where it came from and the allowed values', () => {
    const problems = problemsOf(() => loadConfig({ env: { REPRISE_LOG__LEVEL: 'loud', REPRISE_HARVEST__HTTP__CONCURRENCY: 'many' } }));
    assert.equal(problems.length, 2);
    const level = problems.find((p) => p.startsWith('log.level'))!;
    assert.match(level, /REPRISE_LOG__LEVEL/);
    assert.match(level, /"debug"/);
    assert.match(problems.find((p) => p.startsWith('harvest.http.concurrency'))!, /expected number/);
  });

  it('rejects an unknown variable and lists the known keys', () => {
    const [problem] = problemsOf(() => loadConfig({ env: { REPRISE_HARVEST__IMAGE_SIZ: '512' } }));
    assert.match(problem!, /REPRISE_HARVEST__IMAGE_SIZ: no configuration key harvest\.imageSiz/);
    assert.match(problem!, /harvest\.imageSize/);
  });

  it('names variables that spell built-in object properties as unknown keys instead of crashing', () => {
    const names = ['REPRISE_TO_STRING', 'REPRISE_CONSTRUCTOR__PROTOTYPE__X', 'REPRISE_API__HAS_OWN_PROPERTY', 'REPRISE_HARVEST__VALUE_OF', 'REPRISE_API__CONSTRUCTOR__NAME'];
    for (const name of names) {
      const problems = problemsOf(() => loadConfig({ env: { [name]: '1' } }));
      assert.equal(problems.length, 1, `${name}: ${problems.join('; ')}`);
      assert.match(problems[0]!, new RegExp(`^${name}: no configuration key .*; remove the variable or correct its name; known keys: .*harvest\\.imageSize`));
    }
    assert.equal(({} as Record<string, unknown>).x, undefined, 'Object.prototype untouched');
  });

  it('reads a JSON file, lets variables override it, and rejects unknown keys in it', () => {
    const file = path.join(tmp, 'reprise.config.json');
    writeFileSync(file, JSON.stringify({ harvest: { imageSize: 512, http: { retries: 2 } } }));
    const c = loadConfig({ file, env: { REPRISE_HARVEST__IMAGE_SIZE: '320' } });
    assert.equal(c.harvest.imageSize, 320);
    assert.equal(c.harvest.http.retries, 2);

    writeFileSync(file, JSON.stringify({ harvest: { imagesize: 512 } }));
    const [problem] = problemsOf(() => loadConfig({ file, env: {} }));
    assert.match(problem!, /harvest.*Unrecognized key.*imagesize.*allowed here: .*imageSize/);
  });

  it('says when the file is missing or not JSON', () => {
    assert.match(problemsOf(() => loadConfig({ file: path.join(tmp, 'nope.json'), env: {} }))[0]!, /cannot read config file/);
    const bad = path.join(tmp, 'bad.json');
    writeFileSync(bad, '{ harvest: ');
    assert.match(problemsOf(() => loadConfig({ file: bad, env: {} }))[0]!, /not valid JSON/);
  });

  it('refuses out-of-range values', () => {
    const [problem] = problemsOf(() => loadConfig({ env: { REPRISE_HARVEST__IMAGE_SIZE: '0' } }));
    assert.match(problem!, /harvest\.imageSize \(from REPRISE_HARVEST__IMAGE_SIZE\)/);
  });
});
