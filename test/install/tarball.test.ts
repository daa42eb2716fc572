import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { fixture, fixturesPresent } from '../support/fixtures.ts';
import { localFeaturesAvailable } from '../../reprints/index.ts';

/**
 * The package as a portal developer gets it: `npm pack` (which builds dist/ through `prepare`), the
 * tarball installed into an empty project, and there the `reprise` command, the API imported from a
 * plain .mjs file with no loader, and a TypeScript consumer checked against the shipped types.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const NODE_TYPES = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies['@types/node']!;

/**
 * The environment of the npm commands run here: without what `npm test` itself sets for its
 * scripts (the repository's package and lifecycle), which would make them act on the repository.
 */
function npmEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_(package|lifecycle|config_(local_)?prefix|config_global)/i.test(k)));
  // onnxruntime-node's install script downloads the CUDA provider (hundreds of MB); Reprise runs on the CPU build it ships.
  return { ...env, ONNXRUNTIME_NODE_INSTALL: 'skip' };
}

function run(cmd: string, args: string[], cwd: string, timeoutMs: number): SpawnSyncReturns<string> {
  const out = spawnSync(cmd, args, { cwd, env: npmEnv(), encoding: 'utf8', timeout: timeoutMs });
  assert.equal(out.status, 0, `${cmd} ${args.join(' ')} (in ${cwd}) failed (${out.status ?? out.signal}):\n${out.stdout}\n${out.stderr}`);
  return out;
}

describe('the npm package, packed and installed into an empty project', function () {
  this.timeout(600_000);
  let tmp: string;
  let project: string;
  let packed: Array<{ path: string }>;

  before(function () {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'reprise-tarball-'));
    const started = performance.now();
    const pack = run('npm', ['pack', '--json', '--pack-destination', tmp], ROOT, 300_000);
    const info = (JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>)[0]!;
    packed = info.files;
    const packMs = performance.now() - started;

    project = path.join(tmp, 'portal');
    mkdirSync(project);
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'portal', private: true, type: 'module' }));
    const installStarted = performance.now();
    // Dependencies' install scripts are left out: better-sqlite3 would compile SQLite again (minutes),
    // which proves nothing about this package. Reprise's own (the reprint-detection binding) runs next.
    run('npm', ['install', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', path.join(tmp, info.filename), `@types/node@${NODE_TYPES}`], project, 300_000);
    run('npm', ['rebuild', 'reprise'], project, 300_000);
    console.log(`      (npm pack ${(packMs / 1000).toFixed(0)} s, install ${((performance.now() - installStarted) / 1000).toFixed(0)} s)`);
  });

  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('ships compiled JavaScript with its types, and no sources, tests or build tools', () => {
    const files = packed.map((f) => f.path);
    for (const expected of ['dist/index.js', 'dist/index.d.ts', 'dist/cli/bin.js', 'dist/publisher/index.js', 'viewer-widget/dist/reprise-widget.js', 'bin/build-local-features.js']) {
      assert.ok(files.includes(expected), `${expected} is not in the tarball`);
    }
    assert.deepEqual(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')), [], 'TypeScript sources in the tarball');
    assert.deepEqual(files.filter((f) => f.startsWith('test/')), [], 'tests in the tarball');
    // The server runs without the build tools and the viewers' sources.
    for (const dev of ['tsx', 'esbuild', 'lit', 'mirador', 'openseadragon', 'typescript']) {
      assert.ok(!existsSync(path.join(project, 'node_modules', dev)), `${dev} was installed with reprise`);
    }
  });

  it('runs `npx reprise --help`', () => {
    const help = run('npx', ['reprise', '--help'], project, 60_000);
    assert.match(help.stdout, /^Usage: reprise \[options\] \[command\]/);
    assert.match(help.stdout, /publish/);
  });

  it('publishes a folder of images with `reprise publish`', async function () {
    if (!fixturesPresent) {
      console.warn('skipping: shared fixtures not found (set REPRISE_FIXTURES)');
      return this.skip();
    }
    const pictures = path.join(project, 'pictures');
    mkdirSync(pictures);
    const source = fixture('images', 'skimage');
    const images = readdirSync(source).filter((f) => /\.(png|jpe?g)$/i.test(f)).slice(0, 3);
    assert.equal(images.length, 3, `three images in ${source}`);
    for (const image of images) copyFileSync(path.join(source, image), path.join(pictures, image));

    const child = spawn(path.join(project, 'node_modules', '.bin', 'reprise'), ['publish', pictures, '--port', '0'], { cwd: project, env: npmEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const collectionUrl = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).on('line', (line) => {
          const m = /^collection: (\S+)$/.exec(line);
          if (m) resolve(m[1]!);
        });
        exited.then((code) => reject(new Error(`reprise publish exited (${code}) before serving: ${stderr}`)));
      });
      const collection = (await (await fetch(collectionUrl)).json()) as { items: Array<{ id: string }> };
      assert.ok(collection.items.length >= 1);
      const manifest = (await (await fetch(collection.items[0]!.id)).json()) as { items: unknown[] };
      assert.equal(manifest.items.length, images.length);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, stderr);
  });

  it('imports the API from a plain .mjs file, with no loader; internals are not exported', () => {
    writeFileSync(
      path.join(project, 'consumer.mjs'),
      `import * as reprise from 'reprise';
import { createImageServer } from 'reprise/publisher';

const config = reprise.loadConfig({ env: {} });
let configError;
try {
  reprise.loadConfig({ env: { REPRISE_API__PORT: 'eighty' } });
} catch (err) {
  configError = err instanceof reprise.ConfigError && err instanceof reprise.RepriseError;
}
let deep;
try {
  await import('reprise/plugin/index.ts');
  deep = 'imported';
} catch (err) {
  deep = err.code;
}
const server = createImageServer({ dir: 'pictures' });
console.log(JSON.stringify({
  exports: Object.keys(reprise),
  port: config.api.port,
  publisher: createImageServer === reprise.createImageServer,
  router: typeof server === 'function',
  configError,
  widget: import.meta.resolve('reprise/widget'),
  deep,
}));
`,
    );
    mkdirSync(path.join(project, 'pictures'), { recursive: true });
    const out = spawnSync(process.execPath, ['consumer.mjs'], { cwd: project, encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH } });
    assert.equal(out.status, 0, out.stderr);
    const result = JSON.parse(out.stdout) as { exports: string[]; port: number; publisher: boolean; router: boolean; configError: boolean; widget: string; deep: string };
    for (const name of ['loadConfig', 'loadEncoders', 'openStore', 'createSearchRouter', 'HarvestService', 'ReprintService', 'createImageServer', 'RepriseError']) {
      assert.ok(result.exports.includes(name), `reprise does not export ${name}`);
    }
    assert.equal(result.port, 3000);
    assert.equal(result.publisher, true);
    assert.equal(result.router, true);
    assert.equal(result.configError, true);
    assert.match(result.widget, /\/node_modules\/reprise\/viewer-widget\/dist\/reprise-widget\.js$/);
    assert.equal(result.deep, 'ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  it('builds the reprint-detection binding on install, where the compiled package looks for it', function () {
    // Where this repository could build it, the installed package can too (same OpenCV, same compiler).
    if (!localFeaturesAvailable()) {
      console.warn('skipping: the local-features binding is not built here (docs/reprints.md)');
      return this.skip();
    }
    // `npm rebuild reprise` ran the install script from dist/ (the sources are not shipped), which
    // builds into the folder the compiled package loads it from (PACKAGE_ROOT/reprints/features/native).
    const binding = path.join(project, 'node_modules', 'reprise', 'reprints', 'features', 'native', 'build', 'Release', 'local_features.node');
    assert.ok(existsSync(binding), `npm rebuild reprise built no binding at ${binding}`);
    const out = spawnSync(process.execPath, ['-e', `console.log(require(${JSON.stringify(binding)}).opencvVersion())`], { cwd: project, encoding: 'utf8', timeout: 60_000 });
    assert.equal(out.status, 0, out.stderr);
    assert.match(out.stdout, /^4\.\d+/);
  });

  it('type-checks TypeScript consumers against the shipped types', () => {
    writeFileSync(
      path.join(project, 'consumer.ts'),
      `import { createSearchRouter, loadConfig, RepriseError, type RepriseConfig, type SearchRouter, type VectorStore, type Encoders } from 'reprise';
import { createImageServer, type ImageServer } from 'reprise/publisher';

export function mount(store: VectorStore, encoders: Encoders): SearchRouter {
  const config: RepriseConfig = loadConfig();
  const port: number = config.api.port;
  console.log(port, encoders.config.modelId);
  return createSearchRouter({ store, encoders, config });
}

export const images: ImageServer = createImageServer({ dir: 'pictures' });
export const isReprise = (err: unknown): err is RepriseError => err instanceof RepriseError;

// The types are real, not any: each misuse below must be an error.
// @ts-expect-error a router needs a store
createSearchRouter({ config: loadConfig() });
// @ts-expect-error the port is a number
export const wrong: string = loadConfig().api.port;
`,
    );
    // The widget's types name Lit and OpenSeadragon, which its bundle carries inside and the
    // package does not install: checked as most projects check libraries, skipLibCheck on.
    writeFileSync(
      path.join(project, 'widget-consumer.ts'),
      `import type { RepriseClient, Hit, SearchPage } from 'reprise/widget';

export async function bestScore(client: RepriseClient): Promise<number | undefined> {
  const page: SearchPage = await client.text('a horse', { limit: 5 });
  const hit: Hit | undefined = page.hits[0];
  return hit?.score;
}
`,
    );
    const compilerOptions = { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: ['node'] };
    writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...compilerOptions, skipLibCheck: false }, files: ['consumer.ts'] }));
    writeFileSync(
      path.join(project, 'tsconfig.widget.json'),
      JSON.stringify({ compilerOptions: { ...compilerOptions, lib: ['ES2022', 'DOM'], skipLibCheck: true }, files: ['widget-consumer.ts'] }),
    );
    for (const config of ['tsconfig.json', 'tsconfig.widget.json']) {
      const out = spawnSync(process.execPath, [TSC, '-p', path.join(project, config)], { cwd: project, encoding: 'utf8', timeout: 120_000 });
      assert.equal(out.status, 0, `tsc -p ${config}:\n${out.stdout}${out.stderr}`);
    }
  });
});
