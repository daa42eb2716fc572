import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ORT_INSTALL = path.join(ROOT, 'node_modules', 'onnxruntime-node', 'script', 'install.js');

/** The variables .ci/run exports before `npm ci`, as the install scripts of that `npm ci` see them. */
function ciInstallEnv(): Record<string, string> {
  const script = readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8');
  const npmCi = script.search(/^npm ci\b/m);
  assert.ok(npmCi > 0, '.ci/run runs npm ci');
  return Object.fromEntries([...script.slice(0, npmCi).matchAll(/^export (\w+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}

/** onnxruntime-node's install script as npm runs it, unable to reach any host: a download attempt fails at once instead of fetching hundreds of MB. */
function runOrtInstall(env: Record<string, string>) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^ONNXRUNTIME_NODE_INSTALL|^npm_config_onnxruntime/i.test(k)));
  return spawnSync(process.execPath, [ORT_INSTALL], {
    cwd: path.dirname(path.dirname(ORT_INSTALL)),
    encoding: 'utf8',
    timeout: 30_000,
    env: {
      ...clean,
      // What npm sets for a dependency's script during `npm ci` in this repository.
      npm_config_local_prefix: ROOT,
      npm_package_json: path.join(path.dirname(path.dirname(ORT_INSTALL)), 'package.json'),
      GLOBAL_AGENT_HTTP_PROXY: 'http://127.0.0.1:9',
      GLOBAL_AGENT_HTTPS_PROXY: 'http://127.0.0.1:9',
      ...env,
    },
  });
}

describe('installing: npm configuration', function () {
  this.timeout(60_000);

  it('npm reads the project configuration without an "Unknown project config" warning', function () {
    const npm = spawnSync('npm', ['config', 'list'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    if (npm.error) this.skip(); // no npm on PATH
    assert.equal(npm.status, 0, npm.stderr);
    assert.match(npm.stdout, /"project" config from .*\.npmrc/, 'the project .npmrc is read');
    assert.doesNotMatch(npm.stderr, /Unknown (project|user|cli|env) config/);
  });

  it("skips onnxruntime-node's CUDA download for npm ci in .ci/run and for npm versions that read allowScripts", function () {
    if (!existsSync(ORT_INSTALL)) this.skip();
    const env = ciInstallEnv();
    assert.equal(env.ONNXRUNTIME_NODE_INSTALL, 'skip', '.ci/run exports ONNXRUNTIME_NODE_INSTALL=skip before npm ci');
    const skipped = runOrtInstall(env);
    assert.equal(skipped.status, 0, skipped.stderr);
    assert.equal(skipped.stderr, '');
    // Without it the script does try to download on Linux x64 (and fails here, where it can reach nothing): the check can fail.
    if (process.platform === 'linux' && process.arch === 'x64') {
      const tried = runOrtInstall({});
      assert.notEqual(tried.status, 0);
      assert.match(tried.stderr, /127\.0\.0\.1|ECONNREFUSED|nuget/i);
    }
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };
    assert.equal(pkg.allowScripts?.['onnxruntime-node'], false, 'package.json denies the script where npm knows allowScripts');
  });
});
