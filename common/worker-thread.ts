import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread on the module `name` beside the calling module (`caller`: its
 * import.meta.url). Compiled (dist/), the module is JavaScript and runs as it is. From the sources
 * (the tests, development), the caller is TypeScript run through tsx, whose loader a worker does
 * not inherit: a one-line bootstrap registers tsx in the worker, then imports the module.
 */
export function startWorker(caller: string, name: string, options: WorkerOptions = {}): Worker {
  const fromSources = caller.endsWith('.ts');
  const file = new URL(`./${name}.${fromSources ? 'ts' : 'js'}`, caller);
  if (!fromSources) return new Worker(file, options);
  const bootstrap = `import(${JSON.stringify(tsxEsmApi())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(file.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}

/**
 * tsx's ESM register API, found from here, where tsx is installed (a worker resolves from its
 * working directory). Read from tsx's package.json: its CommonJS build, which require.resolve
 * gives, cannot register the ESM loader, and under mocha this module may itself run as CommonJS,
 * without import.meta.resolve.
 */
function tsxEsmApi(): string {
  const manifest = createRequire(import.meta.url).resolve('tsx/package.json');
  const exports = (JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import: { default: string } }> }).exports;
  const entry = exports['./esm/api']?.import.default;
  if (!entry) throw new Error(`${manifest} has no "./esm/api" export: this tsx cannot start TypeScript workers`);
  return pathToFileURL(path.join(path.dirname(manifest), entry)).href;
}
