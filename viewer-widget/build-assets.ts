/**
 * Everything the package serves from viewer-widget/dist, built before it is packed (`npm run
 * build`, which `prepare` runs): the widget and demo bundles (build.ts), the Mirador bundle
 * (build-mirador.ts), and copies of the viewers' own builds that the demo pages load
 * (OpenSeadragon, and Mirador for its native Content Search demo). The viewers are
 * devDependencies, absent where Reprise is installed as a package; serve.ts serves these copies.
 * Each step is skipped when its output is current.
 *
 *   node --import tsx viewer-widget/build-assets.ts
 */
import { copyFile, mkdir, readdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { buildWidget, WIDGET_DIST } from './build.ts';
import { buildMiradorBundle } from './build-mirador.ts';

/** A viewer's files to copy from its package into viewer-widget/dist/<into>, with its licence. */
interface ViewerCopy {
  pkg: string;
  into: string;
  files: string[];
  licence: string;
}

const VIEWERS: ViewerCopy[] = [
  { pkg: 'openseadragon', into: 'openseadragon', files: ['build/openseadragon/openseadragon.js', 'build/openseadragon/images'], licence: 'LICENSE.txt' },
  { pkg: 'mirador', into: 'mirador', files: ['dist/mirador.min.js'], licence: 'LICENSE' },
];

/** The package's folder: from its package.json, else (Mirador's `exports` leave it out) up from its entry point. */
function packageFolder(name: string): string {
  const require = createRequire(import.meta.url);
  try {
    return path.dirname(require.resolve(`${name}/package.json`));
  } catch {
    for (let dir = path.dirname(require.resolve(name)); dir !== path.dirname(dir); dir = path.dirname(dir)) {
      if (path.basename(dir) === name) return dir;
    }
    throw new Error(`${name} is not installed: run "npm ci" in the clone`);
  }
}

const sameFile = async (a: string, b: string) => {
  const [x, y] = await Promise.all([stat(a), stat(b).catch(() => undefined)]);
  return !!y && x.size === y.size && x.mtimeMs <= y.mtimeMs;
};

/** Copies a file, or a folder's files, where the copy is missing or older; returns whether anything was copied. */
async function copyNewer(source: string, target: string): Promise<boolean> {
  if (!(await stat(source)).isDirectory()) {
    if (await sameFile(source, target)) return false;
    await copyFile(source, target);
    return true;
  }
  await mkdir(target, { recursive: true });
  let copied = false;
  for (const entry of await readdir(source)) copied = (await copyNewer(path.join(source, entry), path.join(target, entry))) || copied;
  return copied;
}

/** Copies one viewer; returns whether anything was copied. */
async function copyViewer(viewer: ViewerCopy, outdir: string): Promise<boolean> {
  const from = packageFolder(viewer.pkg);
  const into = path.join(outdir, viewer.into);
  await mkdir(into, { recursive: true });
  let copied = false;
  for (const file of [...viewer.files, viewer.licence]) copied = (await copyNewer(path.join(from, file), path.join(into, path.basename(file)))) || copied;
  return copied;
}

export async function buildAssets(outdir = WIDGET_DIST): Promise<string[]> {
  const done: string[] = [];
  const widget = await buildWidget({ outdir });
  if (widget.built) done.push(...widget.files.map((f) => path.basename(f)));
  const mirador = await buildMiradorBundle({ outdir });
  if (mirador.built) done.push(path.basename(mirador.file));
  for (const viewer of VIEWERS) if (await copyViewer(viewer, outdir)) done.push(`${viewer.into}/`);
  return done;
}

buildAssets().then(
  (done) => console.log(`viewer-widget/dist: ${done.length ? `built ${done.join(', ')}` : 'up to date'}`),
  (err: unknown) => {
    console.error(`build-assets: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
