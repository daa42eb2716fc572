import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import express, { type Express } from 'express';
import { createImageServer, type ImageServer, type ImageServerOptions } from '../../publisher/index.ts';
import { fixture } from '../support/fixtures.ts';

/**
 * A small archive laid out the way people keep one, copied from the shared fixtures into a
 * temporary folder: images at the top, a folder of pages numbered without leading zeros,
 * a nested sub-folder, and the things a publisher must leave out (a decompression bomb,
 * a corrupt file, an SVG, a hidden file, links out of the folder). Beside it, outside the published
 * folder, a "secret" image that no request may reach.
 */
export interface Archive {
  /** The published folder. */
  dir: string;
  /** A folder beside it, not published. */
  outside: string;
  remove(): void;
}

export const ARCHIVE_IMAGES = [
  'chelsea.png',
  'Landscape_6.jpg',
  'link-in.png',
  'letters/page 1.jpg',
  'letters/page 2.jpg',
  'letters/page 10.jpg',
  'letters/1901/kids.jpg',
  'photos/coffee.png',
] as const;

export function makeArchive(): Archive {
  const top = mkdtempSync(path.join(os.tmpdir(), 'reprise-publish-'));
  const dir = path.join(top, 'archive');
  const outside = path.join(top, 'secret');
  for (const d of [dir, outside, path.join(dir, 'letters/1901'), path.join(dir, 'photos'), path.join(dir, 'empty')]) mkdirSync(d, { recursive: true });
  const copy = (from: string[], to: string) => copyFileSync(fixture('images', ...from), path.join(dir, to));
  copy(['skimage', 'chelsea.png'], 'chelsea.png');
  copy(['decoder-edge-cases', 'Landscape_6.jpg'], 'Landscape_6.jpg');
  copy(['oldpics', 'face_man_1.jpg'], 'letters/page 1.jpg');
  copy(['oldpics', 'face_man_11.jpg'], 'letters/page 2.jpg');
  copy(['oldpics', 'face_man_100.jpg'], 'letters/page 10.jpg');
  copy(['genthe-loc', 'kids.jpg'], 'letters/1901/kids.jpg');
  copy(['skimage', 'coffee.png'], 'photos/coffee.png');
  copy(['decoder-edge-cases', '65536-uint32-limit.png'], 'bomb.png');
  copy(['decoder-edge-cases', 'corrupt-header.jpg'], 'corrupt.jpg');
  copy(['skimage', 'rocket.jpg'], '.hidden.jpg');
  copy(['decoder-edge-cases', 'circle.svg'], 'circle.svg');
  writeFileSync(path.join(dir, 'notes.txt'), 'not an image\n');
  writeFileSync(path.join(dir, 'empty', 'readme.txt'), 'no images here\n');
  copyFileSync(fixture('images', 'skimage', 'astronaut.png'), path.join(outside, 'secret.png'));
  symlinkSync(path.join(outside, 'secret.png'), path.join(dir, 'link-out.png'));
  symlinkSync(outside, path.join(dir, 'folder-out'));
  symlinkSync('chelsea.png', path.join(dir, 'link-in.png'));
  return { dir, outside, remove: () => rmSync(top, { recursive: true, force: true }) };
}

/** An Express app with the publisher mounted at the root (or at `mount`). */
export function publisherApp(options: ImageServerOptions, mount?: string): { app: Express; server: ImageServer } {
  const app = express();
  const server = createImageServer(options);
  if (mount) app.use(mount, server);
  else app.use(server);
  return { app, server };
}

/** The image id as it appears in URLs. */
export const enc = (id: string): string => encodeURIComponent(id);
