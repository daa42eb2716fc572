/**
 * Builds the browser bundles `reprise serve` serves under /widget/: reprise-widget.js (the
 * elements and the OpenSeadragon integration, Lit included, one ES module) and
 * demo-openseadragon.js (the demo page's script, which imports the former by URL). The build is
 * skipped when no input changed since the last one (the inputs esbuild read are recorded, by
 * size and modification time, next to the output). Outputs are written to temporary files and
 * renamed, so a server never serves a half-written bundle.
 *
 *   node --import tsx viewer-widget/build.ts [--force] [--sourcemap]   (npm run build:widget)
 */
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGE_ROOT } from '../common/index.ts';

// From the package's root, so that the compiled copy of this module (dist/viewer-widget/) finds the same files.
const HERE = path.join(PACKAGE_ROOT, 'viewer-widget');
export const WIDGET_DIST = path.join(HERE, 'dist');
export const WIDGET_BUNDLE = 'reprise-widget.js';
export const DEMO_BUNDLE = 'demo-openseadragon.js';
/** The demo script imports the widget by the URL it is served at, so the page loads one copy. */
export const WIDGET_URL = '/widget/reprise-widget.js';
const STAMP = 'reprise-widget.inputs.json';

const ENTRIES = [
  { in: path.join(HERE, 'src', 'index.ts'), out: 'reprise-widget' },
  { in: path.join(HERE, 'demo', 'openseadragon.ts'), out: 'demo-openseadragon' },
];

export interface WidgetBuildOptions {
  outdir?: string;
  force?: boolean;
  /** Also write .map files. */
  sourcemap?: boolean;
}

export interface WidgetBuildResult {
  files: string[];
  /** False when the previous build was still current. */
  built: boolean;
  ms: number;
}

interface Stamp {
  esbuild: string;
  options: { sourcemap: boolean };
  outputs: string[];
  inputs: Record<string, [size: number, mtimeMs: number]>;
}

async function fingerprint(files: string[], root: string): Promise<Stamp['inputs']> {
  return Object.fromEntries(
    await Promise.all(
      files.map(async (f) => {
        const s = await stat(path.resolve(root, f));
        return [f, [s.size, s.mtimeMs] as [number, number]] as const;
      }),
    ),
  );
}

async function isCurrent(outdir: string, version: string, sourcemap: boolean, root: string): Promise<boolean> {
  try {
    const stamp = JSON.parse(await readFile(path.join(outdir, STAMP), 'utf8')) as Stamp;
    if (stamp.esbuild !== version || stamp.options.sourcemap !== sourcemap) return false;
    await Promise.all(stamp.outputs.map((f) => stat(path.join(outdir, f))));
    const now = await fingerprint(Object.keys(stamp.inputs), root);
    return Object.entries(stamp.inputs).every(([f, [size, mtime]]) => now[f]?.[0] === size && now[f]?.[1] === mtime);
  } catch {
    return false;
  }
}

export async function buildWidget(options: WidgetBuildOptions = {}): Promise<WidgetBuildResult> {
  const started = performance.now();
  const outdir = path.resolve(options.outdir ?? WIDGET_DIST);
  const sourcemap = options.sourcemap ?? false;
  const root = path.resolve(HERE, '..');
  const esbuild = await import('esbuild');
  const files = ENTRIES.map((e) => path.join(outdir, `${e.out}.js`));
  if (!options.force && (await isCurrent(outdir, esbuild.version, sourcemap, root))) {
    return { files, built: false, ms: performance.now() - started };
  }
  const result = await esbuild.build({
    entryPoints: ENTRIES,
    outdir,
    absWorkingDir: root,
    tsconfig: path.join(HERE, 'tsconfig.json'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    sourcemap: sourcemap ? 'linked' : false,
    metafile: true,
    write: false,
    legalComments: 'linked',
    logLevel: 'silent',
    external: [WIDGET_URL],
  });
  await mkdir(outdir, { recursive: true });
  await Promise.all(
    result.outputFiles.map(async (f) => {
      const tmp = `${f.path}.${process.pid}.tmp`;
      await writeFile(tmp, f.contents);
      await rename(tmp, f.path);
    }),
  );
  const inputs = Object.keys(result.metafile.inputs).filter((f) => !f.startsWith('<'));
  const stamp: Stamp = {
    esbuild: esbuild.version,
    options: { sourcemap },
    outputs: result.outputFiles.map((f) => path.relative(outdir, f.path)),
    inputs: await fingerprint(inputs, root),
  };
  await writeFile(path.join(outdir, STAMP), JSON.stringify(stamp));
  return { files, built: true, ms: performance.now() - started };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = new Set(process.argv.slice(2));
  const unknown = [...args].filter((a) => a !== '--force' && a !== '--sourcemap');
  if (unknown.length) {
    console.error(`build-widget: unknown option ${unknown.join(' ')} (use --force, --sourcemap)`);
    process.exit(2);
  }
  buildWidget({ force: args.has('--force'), sourcemap: args.has('--sourcemap') }).then(
    (r) => console.log(`${r.built ? 'built' : 'up to date:'} ${r.files.map((f) => path.relative(process.cwd(), f)).join(', ')} (${Math.round(r.ms)} ms)`),
    (err: unknown) => {
      console.error(`build-widget: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
