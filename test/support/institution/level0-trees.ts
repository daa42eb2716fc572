import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { readCachedFile } from './file-cache.ts';
import type { SourceImage } from './sources.ts';

/**
 * Static level-0 Image API trees, rendered once per source file into a cache directory shared by
 * test runs (and by concurrent test processes: a tree appears by one atomic rename).
 *
 * sharp's tile() writes tiles and info.json but no `sizes` and only one whole-image file (the
 * coarsest level), so the sizes of every pyramid level (plus a 640-px one for larger sources)
 * are rendered here and added to info.json.
 */

export interface Size { width: number; height: number }

export interface Level0Tree {
  key: string;
  dir: string;
  width: number;
  height: number;
  /** Ascending; every one exists as a file in both trees. */
  sizes: Size[];
  /** sharp's info.json plus sizes; the id is set per request because the port is not known here. */
  info2: Record<string, unknown>;
  info3: Record<string, unknown>;
}

const RENDER_VERSION = 1;
const TILE_SIZE = 256;
const LONG_SIDE = 640;
const PLACEHOLDER_ID = 'http://placeholder.invalid/level0';

const pending = new Map<string, Promise<Level0Tree>>();

export function ensureLevel0Tree(source: SourceImage, cacheDir: string): Promise<Level0Tree> {
  const key = createHash('sha1')
    .update(`${RENDER_VERSION}\0${TILE_SIZE}\0${LONG_SIDE}\0${sharp.versions.vips}\0${source.tag}`)
    .digest('hex').slice(0, 24);
  const dir = path.join(path.resolve(cacheDir), key);
  let tree = pending.get(dir);
  if (!tree) {
    tree = loadTree(key, dir).catch(() => renderTree(source, key, dir));
    pending.set(dir, tree);
    tree.catch(() => pending.delete(dir));
  }
  return tree;
}

async function loadTree(key: string, dir: string): Promise<Level0Tree> {
  const stored = JSON.parse(await readFile(path.join(dir, 'tree.json'), 'utf8')) as Omit<Level0Tree, 'key' | 'dir'>;
  return { ...stored, key, dir };
}

async function renderTree(source: SourceImage, key: string, dir: string): Promise<Level0Tree> {
  if (!source.readable) throw new Error(`cannot render a level-0 tree of unreadable ${source.path}`);
  const parent = path.dirname(dir);
  await mkdir(parent, { recursive: true });
  // libvips also writes vips-properties.xml beside (not inside) the output folder, so each
  // render gets a private parent to keep concurrent renders from trampling each other.
  const tmp = await mkdtemp(path.join(parent, '.tmp-'));
  try {
    const oriented = () => sharp(source.path).autoOrient();
    await oriented().tile({ layout: 'iiif3', size: TILE_SIZE, id: PLACEHOLDER_ID }).toFile(path.join(tmp, 'v3'));
    await oriented().tile({ layout: 'iiif', size: TILE_SIZE, id: PLACEHOLDER_ID }).toFile(path.join(tmp, 'v2'));
    await rm(path.join(tmp, 'vips-properties.xml'), { force: true });

    const info3 = JSON.parse(await readFile(path.join(tmp, 'v3', 'info.json'), 'utf8')) as Record<string, unknown>;
    const info2 = JSON.parse(await readFile(path.join(tmp, 'v2', 'info.json'), 'utf8')) as Record<string, unknown>;
    const width = Number(info3.width);
    const height = Number(info3.height);
    const sizes = pyramidSizes(width, height, info3.tiles);

    for (const size of sizes) {
      const jpeg = await oriented().resize(size.width, size.height, { fit: 'fill' }).jpeg().toBuffer();
      const full = size.width === width && size.height === height;
      const v3 = [`${size.width},${size.height}`, ...(full ? ['max'] : [])];
      const v2 = [`${size.width},`, `${size.width},${size.height}`, ...(full ? ['full', 'max'] : [])];
      for (const [tree, names] of [['v3', v3], ['v2', v2]] as const) {
        for (const name of names) {
          const file = path.join(tmp, tree, 'full', name, '0', 'default.jpg');
          await mkdir(path.dirname(file), { recursive: true });
          await writeFile(file, jpeg);
        }
      }
    }
    info3.sizes = sizes;
    info2.sizes = sizes;
    const stored = { width, height, sizes, info2, info3 };
    await writeFile(path.join(tmp, 'tree.json'), JSON.stringify(stored));
    try {
      await rename(tmp, dir);
    } catch (err) {
      // Another process finished the same tree first; theirs is as good as ours.
      if (!['EEXIST', 'ENOTEMPTY', 'EPERM'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
      await rm(tmp, { recursive: true, force: true });
    }
    return { ...stored, key, dir };
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** One size per pyramid level, rounded up as libvips rounds its edge tiles. */
function pyramidSizes(width: number, height: number, tiles: unknown): Size[] {
  const factors = (Array.isArray(tiles) ? (tiles[0] as { scaleFactors?: number[] })?.scaleFactors : undefined) ?? [1];
  const sizes = factors.map((f) => ({ width: Math.ceil(width / f), height: Math.ceil(height / f) }));
  const long = Math.max(width, height);
  if (long > LONG_SIDE) {
    const scale = LONG_SIDE / long;
    sizes.push({ width: Math.round(width * scale), height: Math.round(height * scale) });
  }
  const unique = new Map(sizes.map((s) => [`${s.width},${s.height}`, s]));
  return [...unique.values()].sort((a, b) => a.width - b.width);
}

/** A file of the tree, or undefined. */
export async function readTreeFile(tree: Level0Tree, version: 2 | 3, segments: string[]): Promise<Buffer | undefined> {
  if (segments.some((s) => s === '' || s === '.' || s === '..' || s.includes('/') || s.includes('\\'))) return undefined;
  return readCachedFile(path.join(tree.dir, `v${version}`, ...segments));
}
