/**
 * Walks a folder once and lists the images it may serve. Ids are the images' paths relative
 * to the folder; requests are answered only for ids found here, so nothing a client sends is
 * ever joined onto the filesystem. Symbolic links are followed only when they stay inside
 * the folder; hidden files are left out silently, SVG files, files over the pixel limit and
 * unreadable images with their reason. Every count is bounded (images, directory entries, depth).
 */
import { opendir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { PublishFolderError } from './errors.ts';
import type { PublisherLimits } from './limits.ts';

/** Extensions worth opening; sharp's own reading of the header decides what is an image. */
export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.jpe', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif', '.jp2']);

/**
 * Files that people keep as images but that are not published, with the reason the scan
 * reports for them (other extensions are not images and are passed over without a word).
 */
export const UNPUBLISHED_EXTENSIONS = new Map([
  ['.svg', 'vector images (SVG) are not published: export it as PNG to publish it'],
  ['.svgz', 'vector images (SVG) are not published: export it as PNG to publish it'],
]);

/** How many image headers are read at the same time. */
const PROBE_CONCURRENCY = 4;

export interface ImageEntry {
  /** The image's Image API identifier: its path relative to the folder, with `/` separators. */
  id: string;
  /** The folder it is in, relative, `/`-separated; '' for the top folder. */
  folder: string;
  /** Its file name. */
  name: string;
  /** Where it was found (possibly a symbolic link), resolved again on every request. */
  path: string;
  /** Where its bytes were at the scan, symbolic links resolved (inside the published folder). */
  realPath: string;
  /** Width and height as displayed (EXIF orientation applied). */
  width: number;
  height: number;
  /** What sharp read it as: jpeg, png, webp, tiff, … */
  format: string;
  mtimeMs: number;
  bytes: number;
}

export interface SkippedFile {
  /** Relative path, `/`-separated. */
  path: string;
  reason: string;
}

export interface FolderNode {
  /** Relative path, `/`-separated; '' for the top folder. */
  path: string;
  name: string;
  /** Images directly inside, in natural order (2 before 10). */
  images: ImageEntry[];
  /** Sub-folders with images somewhere below, in natural order. */
  folders: FolderNode[];
  /** The newest modification time of any image at or below this folder. */
  mtimeMs: number;
}

export interface ScanResult {
  /** The published folder, as given, resolved. */
  root: string;
  /** The same with symbolic links resolved: every served file lies under it. */
  rootReal: string;
  images: Map<string, ImageEntry>;
  tree: FolderNode;
  skipped: SkippedFile[];
  /** Set when a limit stopped the scan early, saying which. */
  truncated?: string;
  scannedAt: number;
}

export const naturalOrder = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

export function compareNatural(a: string, b: string): number {
  return naturalOrder.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** Whether `target` is `root` or lies under it (both already real paths). */
export function isInside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Checks that `dir` can be published and returns its real path. */
export async function publishRoot(dir: string): Promise<{ root: string; rootReal: string }> {
  const root = path.resolve(dir);
  let info;
  try {
    info = await stat(root);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new PublishFolderError(
      code === 'ENOENT' ? `${root} does not exist: give the folder of images to publish` : `${root} cannot be read (${code ?? (err as Error).message})`,
    );
  }
  if (!info.isDirectory()) throw new PublishFolderError(`${root} is not a folder: give the folder that holds the images`);
  return { root, rootReal: await realpath(root) };
}

/** Reads one image's header: its displayed size and format, or why it cannot be served. */
export async function probeImage(file: string, limits: PublisherLimits): Promise<{ width: number; height: number; format: string } | { reason: string }> {
  let meta;
  try {
    // Only the header is read here, so no pixel limit is needed to read it; the size is checked below.
    meta = await sharp(file, { limitInputPixels: false }).metadata();
  } catch (err) {
    return { reason: `not a readable image: ${(err as Error).message.split('\n')[0]}` };
  }
  const width = meta.autoOrient?.width ?? meta.width;
  const height = meta.autoOrient?.height ?? meta.height;
  if (!width || !height) return { reason: 'not a readable image: no width or height in its header' };
  if (meta.format === 'svg') return { reason: UNPUBLISHED_EXTENSIONS.get('.svg')! };
  if (width * height > limits.maxInputPixels) {
    return { reason: `${width}×${height} pixels is over the limit of ${limits.maxInputPixels} (maxInputPixels): not decoded, to keep the server safe` };
  }
  return { width, height, format: meta.format ?? 'unknown' };
}

interface Candidate {
  id: string;
  folder: string;
  name: string;
  path: string;
  realPath: string;
  mtimeMs: number;
  bytes: number;
}

/**
 * Lists the images under `dir`, within `limits`. With the `previous` scan, files unchanged
 * since (same place, modification time and size) are not opened again.
 */
export async function scanFolder(dir: string, limits: PublisherLimits, previous?: ScanResult): Promise<ScanResult> {
  const { root, rootReal } = await publishRoot(dir);
  const skipped: SkippedFile[] = [];
  const candidates: Candidate[] = [];
  const seenDirs = new Set<string>([rootReal]);
  const folders: string[] = [''];
  let truncated: string | undefined;
  let entries = 0;

  // Breadth first, so that a truncated scan keeps the top of the tree.
  const queue: Array<{ rel: string; real: string; depth: number }> = [{ rel: '', real: rootReal, depth: 0 }];
  while (queue.length) {
    const { rel, real, depth } = queue.shift()!;
    let handle;
    try {
      handle = await opendir(real);
    } catch (err) {
      skipped.push({ path: rel || '.', reason: `folder cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      continue;
    }
    const names: string[] = [];
    for await (const dirent of handle) {
      if (++entries > limits.maxEntries) {
        truncated = `stopped after ${limits.maxEntries} folder entries (maxEntries)`;
        break;
      }
      if (!dirent.name.startsWith('.')) names.push(dirent.name);
    }
    names.sort(compareNatural);
    for (const name of names) {
      const childRel = rel ? `${rel}/${name}` : name;
      const linked = path.join(real, name);
      let target: string;
      try {
        target = await realpath(linked);
      } catch {
        skipped.push({ path: childRel, reason: 'a symbolic link to nothing' });
        continue;
      }
      if (!isInside(rootReal, target)) {
        skipped.push({ path: childRel, reason: 'a symbolic link that leads outside the published folder' });
        continue;
      }
      let info;
      try {
        info = await stat(target);
      } catch (err) {
        skipped.push({ path: childRel, reason: `cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
        continue;
      }
      if (info.isDirectory()) {
        if (seenDirs.has(target)) continue;
        if (depth + 1 > limits.maxDepth) {
          skipped.push({ path: childRel, reason: `deeper than ${limits.maxDepth} folders (maxDepth): not scanned` });
          continue;
        }
        seenDirs.add(target);
        folders.push(childRel);
        queue.push({ rel: childRel, real: target, depth: depth + 1 });
      } else if (info.isFile() && IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase())) {
        candidates.push({ id: childRel, folder: rel, name, path: linked, realPath: target, mtimeMs: info.mtimeMs, bytes: info.size });
      } else if (info.isFile() && UNPUBLISHED_EXTENSIONS.has(path.extname(name).toLowerCase())) {
        skipped.push({ path: childRel, reason: UNPUBLISHED_EXTENSIONS.get(path.extname(name).toLowerCase())! });
      }
    }
    if (truncated) break;
  }

  // Probed in scan order, a few at a time, until maxImages are found: the images kept are the first ones.
  const images = new Map<string, ImageEntry>();
  let probed = 0;
  while (probed < candidates.length && images.size < limits.maxImages) {
    const batch = candidates.slice(probed, probed + PROBE_CONCURRENCY);
    probed += batch.length;
    const results = await Promise.all(
      batch.map((c) => {
        const known = previous?.images.get(c.id);
        const unchanged = known && known.realPath === c.realPath && known.mtimeMs === c.mtimeMs && known.bytes === c.bytes;
        return unchanged ? { width: known.width, height: known.height, format: known.format } : probeImage(c.realPath, limits);
      }),
    );
    for (const [i, result] of results.entries()) {
      const c = batch[i]!;
      if ('reason' in result) skipped.push({ path: c.id, reason: result.reason });
      else if (images.size < limits.maxImages) images.set(c.id, { ...c, ...result });
      else truncated ??= `stopped at ${limits.maxImages} images (maxImages)`;
    }
  }
  if (probed < candidates.length) truncated ??= `stopped at ${limits.maxImages} images (maxImages)`;
  skipped.sort((a, b) => compareNatural(a.path, b.path));
  return { root, rootReal, images, tree: buildTree(path.basename(root), folders, images), skipped, truncated, scannedAt: Date.now() };
}

/** Folders as a tree, in natural order, without those that hold no image at any depth. */
function buildTree(rootName: string, folderPaths: string[], images: Map<string, ImageEntry>): FolderNode {
  const nodes = new Map<string, FolderNode>();
  for (const p of folderPaths) nodes.set(p, { path: p, name: p === '' ? rootName : p.slice(p.lastIndexOf('/') + 1), images: [], folders: [], mtimeMs: 0 });
  for (const image of images.values()) nodes.get(image.folder)?.images.push(image);
  // Deepest first, so a folder knows whether its children hold images before its parent asks.
  const byDepth = [...nodes.values()].sort((a, b) => b.path.split('/').length - a.path.split('/').length || compareNatural(a.path, b.path));
  for (const node of byDepth) {
    node.images.sort((a, b) => compareNatural(a.name, b.name));
    node.folders.sort((a, b) => compareNatural(a.name, b.name));
    node.mtimeMs = [...node.images, ...node.folders].reduce((m, x) => Math.max(m, x.mtimeMs), 0);
    if (node.path !== '' && (node.images.length || node.folders.length)) {
      const parent = node.path.includes('/') ? node.path.slice(0, node.path.lastIndexOf('/')) : '';
      nodes.get(parent)?.folders.push(node);
    }
  }
  return nodes.get('')!;
}
