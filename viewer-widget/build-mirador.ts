/**
 * Builds viewer-widget/dist/reprise-mirador.js: Mirador 4 (its ES build, with React and MUI) and
 * the Reprise plugin in one ES module. The build takes a few seconds on two cores, so it is
 * skipped when no input changed since the last one (the inputs esbuild read, by size and
 * modification time, are recorded next to the output).
 *
 *   node --import tsx viewer-widget/build-mirador.ts [--force] [--sourcemap]   (npm run build:mirador)
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const MIRADOR_ENTRY = path.join(HERE, 'src', 'mirador', 'index.ts');
export const DEFAULT_OUTDIR = path.join(HERE, 'dist');
export const MIRADOR_BUNDLE = 'reprise-mirador.js';
const STAMP = 'reprise-mirador.inputs.json';

export interface MiradorBuildOptions {
  /** Where reprise-mirador.js goes (default viewer-widget/dist). */
  outdir?: string;
  /** Build even when the recorded inputs are unchanged. */
  force?: boolean;
  /** Also write reprise-mirador.js.map (about 4× the bundle's size). */
  sourcemap?: boolean;
}

export interface MiradorBuildResult {
  file: string;
  /** False when the previous build was still current. */
  built: boolean;
  ms: number;
  bytes: number;
}

interface Stamp {
  esbuild: string;
  options: { sourcemap: boolean };
  inputs: Record<string, [size: number, mtimeMs: number]>;
}

async function fingerprint(files: string[], root: string): Promise<Stamp['inputs']> {
  const entries = await Promise.all(
    files.map(async (f) => {
      const s = await stat(path.resolve(root, f));
      return [f, [s.size, s.mtimeMs]] as [string, [number, number]];
    }),
  );
  return Object.fromEntries(entries);
}

async function isCurrent(outdir: string, version: string, sourcemap: boolean, root: string): Promise<boolean> {
  try {
    const stamp = JSON.parse(await readFile(path.join(outdir, STAMP), 'utf8')) as Stamp;
    if (stamp.esbuild !== version || stamp.options.sourcemap !== sourcemap) return false;
    await stat(path.join(outdir, MIRADOR_BUNDLE));
    // A new file picked up by an import changes the importing file, so the recorded list suffices.
    const now = await fingerprint(Object.keys(stamp.inputs), root);
    return Object.entries(stamp.inputs).every(([f, [size, mtime]]) => now[f]?.[0] === size && now[f]?.[1] === mtime);
  } catch {
    return false;
  }
}

export async function buildMiradorBundle(options: MiradorBuildOptions = {}): Promise<MiradorBuildResult> {
  const started = performance.now();
  const outdir = path.resolve(options.outdir ?? DEFAULT_OUTDIR);
  const sourcemap = options.sourcemap ?? false;
  const file = path.join(outdir, MIRADOR_BUNDLE);
  const root = path.resolve(HERE, '..');
  const esbuild = await import('esbuild');
  if (!options.force && (await isCurrent(outdir, esbuild.version, sourcemap, root))) {
    return { file, built: false, ms: performance.now() - started, bytes: (await stat(file)).size };
  }
  await mkdir(outdir, { recursive: true });
  const result = await esbuild.build({
    entryPoints: [MIRADOR_ENTRY],
    outfile: file,
    absWorkingDir: root,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    sourcemap,
    metafile: true,
    legalComments: 'linked',
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const inputs = Object.keys(result.metafile.inputs).filter((f) => !f.startsWith('<'));
  const stamp: Stamp = { esbuild: esbuild.version, options: { sourcemap }, inputs: await fingerprint(inputs, root) };
  await writeFile(path.join(outdir, STAMP), JSON.stringify(stamp));
  return { file, built: true, ms: performance.now() - started, bytes: (await stat(file)).size };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = new Set(process.argv.slice(2));
  const unknown = [...args].filter((a) => a !== '--force' && a !== '--sourcemap');
  if (unknown.length) {
    console.error(`build-mirador: unknown option ${unknown.join(' ')} (use --force, --sourcemap)`);
    process.exit(2);
  }
  buildMiradorBundle({ force: args.has('--force'), sourcemap: args.has('--sourcemap') }).then(
    (r) => console.log(`${r.built ? 'built' : 'up to date:'} ${path.relative(process.cwd(), r.file)} (${(r.bytes / 1e6).toFixed(2)} MB, ${Math.round(r.ms)} ms)`),
    (err: unknown) => {
      console.error(`build-mirador: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
