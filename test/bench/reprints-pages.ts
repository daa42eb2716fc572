/**
 * Synthetic printed pages for eval:reprints, deterministic for a seed: a newspaper page (masthead,
 * headlines, 4–6 text columns) or a book page (running head, one text block, captions) holding
 * photographs at 20–60 % of the page width, each cropped, re-toned, resized and re-screened as an
 * amplitude-modulated halftone at its own screen angle and cell size, printed in a dark ink on a
 * paper tone, then scanned (slight skew, blur, grain, JPEG). Where each photograph was printed is
 * recorded, in page pixels, so the eval can check the region a search returns.
 */
import sharp from 'sharp';
import { rng } from './reprints-degrade.ts';

export { rng };

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface PrintedPhoto {
  /** The photograph's id in the eval (folder/file). */
  id: string;
  /** Where it was printed, page pixels (before the scan's skew, which stays under 1°). */
  box: Box;
  /** Printed width over page width. */
  widthFraction: number;
  params: { cropArea: number; contrast: number; gamma: number; screenAngle: number; screenCell: number };
}

export interface PrintedPage {
  kind: 'newspaper' | 'book';
  width: number;
  height: number;
  /** The scanned page, JPEG. */
  bytes: Buffer;
  photos: PrintedPhoto[];
  params: Record<string, number | string>;
}

export const SCREEN_ANGLES = [0, 15, 45, 75];
/** Halftone cells, page pixels at a 2,000-px page: 65–130 lines per inch on a tabloid to broadsheet scan. */
export const SCREEN_CELLS = [3, 4, 5, 6, 8];

const PAPERS: Array<[number, number, number]> = [
  [250, 249, 244],
  [244, 239, 225],
  [236, 228, 205],
  [226, 217, 192],
];
const INKS: Array<[number, number, number]> = [
  [18, 18, 18],
  [40, 30, 22],
  [58, 40, 26],
  [28, 32, 44],
];

const SYLLABLES = 'the an re con ing tion ment al er es ed on in at or ar en st pro ver der lan com pre ter ous ble ly ca ri na ta lo mi ne ho ke ge su po vi'.split(' ');

function word(random: () => number): string {
  const parts = 1 + Math.floor(random() * 3);
  let w = '';
  for (let i = 0; i < parts; i++) w += SYLLABLES[Math.floor(random() * SYLLABLES.length)]!;
  if (random() < 0.08) w = w[0]!.toUpperCase() + w.slice(1);
  if (random() < 0.07) w += random() < 0.6 ? ',' : '.';
  return w;
}

/** A line of words that fits `width` px at `fontSize` (DejaVu Serif averages about 0.55 em a character). */
function line(random: () => number, width: number, fontSize: number, charWidth = 0.55): string {
  const chars = Math.floor(width / (fontSize * charWidth));
  let text = '';
  for (;;) {
    const w = word(random);
    if (text.length + w.length + 1 > chars) break;
    text += (text ? ' ' : '') + w;
  }
  return text;
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

interface Layout {
  svg: string[];
  photos: Array<{ id: string; box: Box }>;
}

const overlaps = (a: Box, b: Box, pad = 0) => a.x < b.x + b.w + pad && b.x < a.x + a.w + pad && a.y < b.y + b.h + pad && b.y < a.y + a.h + pad;

function textLines(random: () => number, svg: string[], x: number, y0: number, y1: number, width: number, fontSize: number, lineHeight: number, blocked: Box[]): void {
  for (let y = y0 + fontSize; y <= y1; y += lineHeight) {
    const band: Box = { x, y: y - fontSize, w: width, h: lineHeight };
    if (blocked.some((b) => overlaps(band, b, 2))) continue;
    // Paragraph ends: a short line now and then.
    const w = random() < 0.1 ? width * (0.3 + 0.5 * random()) : width;
    svg.push(`<text x="${x.toFixed(1)}" y="${y.toFixed(1)}">${escapeXml(line(random, w, fontSize))}</text>`);
  }
}

/** Places photographs of the given aspect ratios (w/h) and the text around them. */
function newspaperLayout(random: () => number, width: number, height: number, photos: Array<{ id: string; aspect: number; fraction: number }>): Layout {
  const svg: string[] = [];
  const margin = Math.round(width * (0.04 + 0.015 * random()));
  const columns = 4 + Math.floor(random() * 3);
  const gutter = Math.round(width * 0.016);
  const colW = (width - 2 * margin - (columns - 1) * gutter) / columns;
  const mastheadH = Math.round(height * (0.06 + 0.03 * random()));
  svg.push(`<text x="${width / 2}" y="${margin + mastheadH * 0.75}" font-size="${Math.round(mastheadH * 0.8)}" font-weight="bold" text-anchor="middle">${escapeXml(line(random, width * 0.55, mastheadH * 0.8, 0.62).toUpperCase() || 'THE DAILY')}</text>`);
  const ruleY = margin + mastheadH + 8;
  svg.push(`<rect x="${margin}" y="${ruleY}" width="${width - 2 * margin}" height="4"/>`);
  svg.push(`<text x="${margin}" y="${ruleY + 24}" font-size="16">${escapeXml(line(random, width * 0.3, 16))}</text>`);
  svg.push(`<rect x="${margin}" y="${ruleY + 34}" width="${width - 2 * margin}" height="2"/>`);
  const top = ruleY + 50;
  const bottom = height - margin;
  const blocked: Box[] = [];
  const placed: Array<{ id: string; box: Box }> = [];
  const fontSize = 11 + Math.floor(random() * 3);
  const lineHeight = Math.round(fontSize * 1.22);
  for (const photo of photos) {
    // The photograph's own width; the columns it covers lose their text beside it.
    const w = Math.round(photo.fraction * width);
    const span = Math.min(columns, Math.ceil((w + gutter) / (colW + gutter) - 1e-6));
    const spanW = Math.round(span * colW + (span - 1) * gutter);
    let h = Math.round(w / photo.aspect);
    h = Math.min(h, Math.round((bottom - top) * 0.55));
    const captionH = lineHeight * 2 + 6;
    for (let attempt = 0; attempt < 60; attempt++) {
      const col = Math.floor(random() * (columns - span + 1));
      const x = Math.round(margin + col * (colW + gutter));
      const y = Math.round(top + random() * Math.max(0, bottom - top - h - captionH));
      const box: Box = { x, y, w, h };
      const withCaption: Box = { x, y: y - 8, w: spanW, h: h + captionH + 8 };
      if (blocked.some((b) => overlaps(withCaption, b, 10))) continue;
      blocked.push(withCaption);
      placed.push({ id: photo.id, box });
      // Caption, italic, under the photograph.
      svg.push(`<text x="${x}" y="${y + h + fontSize + 6}" font-style="italic">${escapeXml(line(random, w, fontSize))}</text>`);
      svg.push(`<text x="${x}" y="${y + h + fontSize + 6 + lineHeight}" font-style="italic">${escapeXml(line(random, w * 0.6, fontSize))}</text>`);
      break;
    }
  }
  // Headlines across a few columns.
  const headlines = 1 + Math.floor(random() * 3);
  for (let i = 0; i < headlines; i++) {
    const span = 1 + Math.floor(random() * Math.min(3, columns));
    const size = Math.round(26 + 22 * random());
    const col = Math.floor(random() * (columns - span + 1));
    const x = Math.round(margin + col * (colW + gutter));
    const w = Math.round(span * colW + (span - 1) * gutter);
    const y = Math.round(top + random() * (bottom - top - size * 2.6));
    const box: Box = { x, y, w, h: Math.round(size * 2.5) };
    if (blocked.some((b) => overlaps(box, b, 6))) continue;
    blocked.push(box);
    svg.push(`<text x="${x}" y="${y + size}" font-size="${size}" font-weight="bold">${escapeXml(line(random, w, size, 0.62))}</text>`);
    svg.push(`<text x="${x}" y="${y + size * 2.2}" font-size="${size}" font-weight="bold">${escapeXml(line(random, w * 0.7, size, 0.62))}</text>`);
  }
  svg.push(`<g font-size="${fontSize}">`);
  for (let c = 0; c < columns; c++) {
    const x = margin + c * (colW + gutter);
    textLines(random, svg, x, top, bottom, colW, fontSize, lineHeight, blocked);
    if (c < columns - 1) svg.push(`<rect x="${(x + colW + gutter / 2 - 0.5).toFixed(1)}" y="${top}" width="1" height="${bottom - top}"/>`);
  }
  svg.push('</g>');
  return { svg, photos: placed };
}

function bookLayout(random: () => number, width: number, height: number, photos: Array<{ id: string; aspect: number; fraction: number }>): Layout {
  const svg: string[] = [];
  const marginX = Math.round(width * (0.1 + 0.04 * random()));
  const marginY = Math.round(height * 0.08);
  const textW = width - 2 * marginX;
  const fontSize = 22 + Math.floor(random() * 8);
  const lineHeight = Math.round(fontSize * 1.35);
  svg.push(`<text x="${width / 2}" y="${marginY - lineHeight}" font-size="${Math.round(fontSize * 0.8)}" text-anchor="middle" letter-spacing="3">${escapeXml(line(random, textW * 0.5, fontSize * 0.8, 0.7).toUpperCase())}</text>`);
  svg.push(`<text x="${width / 2}" y="${height - marginY * 0.5}" font-size="${fontSize}" text-anchor="middle">${10 + Math.floor(random() * 300)}</text>`);
  const blocked: Box[] = [];
  const placed: Array<{ id: string; box: Box }> = [];
  const top = marginY;
  const bottom = height - marginY;
  // Photographs stacked from a random start, centred, each with a caption.
  const heights = photos.map((p) => Math.round(Math.min(textW, p.fraction * width) / p.aspect));
  const captionH = lineHeight + 16;
  const total = heights.reduce((s, h) => s + h + captionH + lineHeight, 0);
  let y = Math.round(top + random() * Math.max(0, bottom - top - total));
  photos.forEach((photo, i) => {
    let w = Math.round(Math.min(textW, photo.fraction * width));
    let h = heights[i]!;
    const room = bottom - y - captionH;
    if (h > room) {
      h = room;
      w = Math.round(h * photo.aspect);
    }
    if (h < 80 || w < 80) return;
    const x = Math.round((width - w) / 2);
    placed.push({ id: photo.id, box: { x, y, w, h } });
    blocked.push({ x: marginX, y: y - lineHeight * 0.5, w: textW, h: h + captionH + lineHeight * 0.5 });
    svg.push(`<text x="${width / 2}" y="${y + h + fontSize + 10}" font-size="${Math.round(fontSize * 0.85)}" font-style="italic" text-anchor="middle">${escapeXml(line(random, w, fontSize * 0.85))}</text>`);
    y += h + captionH + lineHeight;
  });
  svg.push(`<g font-size="${fontSize}">`);
  textLines(random, svg, marginX, top, bottom, textW, fontSize, lineHeight, blocked);
  svg.push('</g>');
  return { svg, photos: placed };
}

/** Samples per pixel side: a scanner's pixel averages the ink over its area, dot edges included. */
const SUPERSAMPLE = 4;

/**
 * An amplitude-modulated screen at `angle` degrees with `cell`-px cells: each cell's dot grows with
 * the darkness under it. Returns ink coverage per pixel (0 paper, 255 ink), as a scan of the print
 * sees it: the area of the pixel the dots cover (sampled 4 × 4), not one sample per pixel, which
 * would posterise a fine screen to a few grey levels no real scan shows.
 */
function halftone(grey: Uint8Array, width: number, height: number, angle: number, cell: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const a = (angle * Math.PI) / 180;
  const cos = Math.cos(a);
  const sin = Math.sin(a);
  const k = (2 * Math.PI) / cell;
  const step = 1 / SUPERSAMPLE;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const level = grey[y * width + x]!;
      let ink = 0;
      for (let sy = 0; sy < SUPERSAMPLE; sy++) {
        const py = y + (sy + 0.5) * step - 0.5;
        for (let sx = 0; sx < SUPERSAMPLE; sx++) {
          const px = x + (sx + 0.5) * step - 0.5;
          const u = (px * cos + py * sin) * k;
          const v = (-px * sin + py * cos) * k;
          if (level <= (Math.cos(u) * Math.cos(v) + 1) * 127.5) ink++;
        }
      }
      out[y * width + x] = Math.round((255 * ink) / (SUPERSAMPLE * SUPERSAMPLE));
    }
  }
  return out;
}

interface PhotoInput {
  id: string;
  bytes: Buffer;
}

/**
 * Prepares one photograph for print: crop (65–100 % of the area), re-tone (contrast, gamma),
 * grey, resized to its printed box. Returns the grey pixels and the parameters.
 */
async function printedPhoto(photo: PhotoInput, random: () => number): Promise<{ grey: Buffer; width: number; height: number; aspect: number; cropArea: number; contrast: number; gamma: number; make: (w: number, h: number) => Promise<Buffer> }> {
  const base = sharp(photo.bytes).rotate().flatten({ background: '#ffffff' }).greyscale();
  const meta = await sharp(await base.clone().png().toBuffer()).metadata();
  const width = meta.width!;
  const height = meta.height!;
  const area = 0.65 + 0.35 * random();
  const aspect = Math.exp((random() - 0.5) * 0.3);
  const fw = Math.min(1, Math.sqrt(area) * aspect);
  const fh = Math.min(1, area / fw);
  const w = Math.max(16, Math.round(width * fw));
  const h = Math.max(16, Math.round(height * fh));
  const left = Math.floor(random() * (width - w + 1));
  const top = Math.floor(random() * (height - h + 1));
  const contrast = 0.75 + 0.45 * random();
  const gamma = Math.exp((random() - 0.5) * 0.7);
  const lut = new Uint8Array(256);
  for (let v = 0; v < 256; v++) lut[v] = Math.max(0, Math.min(255, Math.round(255 * Math.pow(Math.max(0, Math.min(1, 0.5 + (v / 255 - 0.5) * contrast)), gamma))));
  const cropped = await base.extract({ left, top, width: w, height: h }).raw().toBuffer();
  return {
    grey: cropped,
    width: w,
    height: h,
    aspect: w / h,
    cropArea: (w * h) / (width * height),
    contrast,
    gamma,
    make: async (outW: number, outH: number) => {
      const resized = await sharp(cropped, { raw: { width: w, height: h, channels: 1 } }).resize(outW, outH, { fit: 'fill', kernel: 'lanczos3' }).extractChannel(0).raw().toBuffer();
      for (let i = 0; i < resized.length; i++) resized[i] = lut[resized[i]!]!;
      return resized;
    },
  };
}

/**
 * Prints `photos` on one page. Newspaper pages are about 0.7 as wide as tall, book pages 0.65;
 * the long side is `longSide` px (2,000: the size the targets are stated for).
 */
export async function printPage(kind: 'newspaper' | 'book', photos: PhotoInput[], random: () => number, longSide = 2000): Promise<PrintedPage> {
  const height = longSide;
  const width = Math.round(longSide * (kind === 'newspaper' ? 0.68 + 0.06 * random() : 0.62 + 0.06 * random()));
  const prepared = [];
  for (const p of photos) {
    const fraction = kind === 'newspaper' ? 0.2 + 0.4 * random() : 0.3 + 0.3 * random();
    prepared.push({ input: p, fraction, photo: await printedPhoto(p, random) });
  }
  const layout = (kind === 'newspaper' ? newspaperLayout : bookLayout)(
    random,
    width,
    height,
    prepared.map((p) => ({ id: p.input.id, aspect: p.photo.aspect, fraction: p.fraction })),
  );
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Serif"><rect width="100%" height="100%" fill="#fff"/>${layout.svg.join('')}</svg>`;
  // Ink coverage of the whole page, 0 paper to 255 ink: the text, then the screened photographs.
  const rendered = await sharp(Buffer.from(svg)).greyscale().extractChannel(0).raw().toBuffer();
  const ink = new Uint8Array(width * height);
  for (let i = 0; i < ink.length; i++) ink[i] = 255 - rendered[i]!;
  const printed: PrintedPhoto[] = [];
  for (const { id, box } of layout.photos) {
    const p = prepared.find((q) => q.input.id === id)!;
    const screenAngle = SCREEN_ANGLES[Math.floor(random() * SCREEN_ANGLES.length)]!;
    const screenCell = SCREEN_CELLS[Math.floor(random() * SCREEN_CELLS.length)]!;
    const grey = await p.photo.make(box.w, box.h);
    const dots = halftone(grey, box.w, box.h, screenAngle, screenCell);
    for (let y = 0; y < box.h; y++) ink.set(dots.subarray(y * box.w, (y + 1) * box.w), (box.y + y) * width + box.x);
    printed.push({
      id,
      box,
      widthFraction: +(box.w / width).toFixed(3),
      params: { cropArea: +p.photo.cropArea.toFixed(3), contrast: +p.photo.contrast.toFixed(3), gamma: +p.photo.gamma.toFixed(3), screenAngle, screenCell },
    });
  }
  // Ink on paper, then the scan: a little ink spread (blur), grain, skew under 1°, JPEG.
  const paper = PAPERS[Math.floor(random() * PAPERS.length)]!;
  const inkColour = INKS[Math.floor(random() * INKS.length)]!;
  const density = 0.85 + 0.15 * random();
  const rgb = Buffer.alloc(width * height * 3);
  for (let i = 0; i < ink.length; i++) {
    const t = (ink[i]! / 255) * density;
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] = Math.round(paper[c]! * (1 - t) + inkColour[c]! * t);
  }
  const blur = 0.4 + 0.5 * random();
  const skew = (random() - 0.5) * 1.6;
  const quality = 72 + Math.floor(random() * 20);
  let scan = sharp(rgb, { raw: { width, height, channels: 3 } }).blur(blur);
  const grainy = await scan.raw().toBuffer();
  const grain = 4 + 4 * random();
  for (let i = 0; i < grainy.length; i++) grainy[i] = Math.max(0, Math.min(255, Math.round(grainy[i]! + grain * (random() + random() + random() - 1.5))));
  scan = sharp(grainy, { raw: { width, height, channels: 3 } }).rotate(skew, { background: { r: paper[0]!, g: paper[1]!, b: paper[2]! } });
  // rotate() grows the canvas; crop back to the page size around its centre so boxes stay put.
  const rotated = await scan.raw().toBuffer({ resolveWithObject: true });
  const dx = Math.floor((rotated.info.width - width) / 2);
  const dy = Math.floor((rotated.info.height - height) / 2);
  const bytes = await sharp(rotated.data, { raw: { width: rotated.info.width, height: rotated.info.height, channels: 3 } })
    .extract({ left: dx, top: dy, width, height })
    .jpeg({ quality })
    .toBuffer();
  return { kind, width, height, bytes, photos: printed, params: { blur: +blur.toFixed(2), skew: +skew.toFixed(2), quality, grain: +grain.toFixed(1), density: +density.toFixed(2) } };
}
