/**
 * Degraded copies of a photograph for eval:reprints, deterministic for a seed: what happens to an
 * agency photograph between prints (crop, re-toning, blur, grain, JPEG, a skewed scan, greyscale,
 * a halftone screen, mounts and padding).
 */
import sharp, { type Sharp } from 'sharp';

export const DEGRADATIONS = ['crop', 'contrast', 'blur', 'noise', 'jpeg', 'rotation', 'greyscale', 'halftone', 'borders'] as const;
export type Degradation = (typeof DEGRADATIONS)[number];

/** xorshift32: small, fast, reproducible across platforms. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

function gaussian(random: () => number): number {
  const u = Math.max(1e-12, random());
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

export interface DegradedQuery {
  bytes: Buffer;
  applied: Degradation[];
  /** Parameters actually used, for the report. */
  params: Record<string, number | string>;
}

/**
 * Applies `kinds` at `intensity` (0–1). At 0.9: crop keeps down to 40 % of the area, JPEG quality
 * 20, rotation up to 9°, blur sigma 2.6 px, noise sigma 27 levels.
 */
export async function degrade(original: Buffer, intensity: number, kinds: Degradation[], random: () => number): Promise<DegradedQuery> {
  const params: Record<string, number | string> = {};
  const has = (k: Degradation) => kinds.includes(k);
  let { data, info } = await sharp(original).rotate().removeAlpha().resize(800, 800, { fit: 'inside', withoutEnlargement: true }).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  let width = info.width;
  let height = info.height;
  let channels = info.channels;
  const raw = () => sharp(data, { raw: { width, height, channels: channels as 1 | 3 } });
  const take = async (s: Sharp) => {
    const out = await s.raw().toBuffer({ resolveWithObject: true });
    data = out.data;
    width = out.info.width;
    height = out.info.height;
    channels = out.info.channels;
  };
  if (has('crop')) {
    const area = 1 - (0.6 / 0.9) * intensity * (0.75 + 0.25 * random());
    const aspect = Math.exp((random() - 0.5) * 0.4);
    const fw = Math.min(1, Math.sqrt(area) * aspect);
    const fh = Math.min(1, area / fw);
    const w = Math.max(16, Math.round(width * fw));
    const h = Math.max(16, Math.round(height * fh));
    const left = Math.floor(random() * (width - w + 1));
    const top = Math.floor(random() * (height - h + 1));
    params.cropArea = +((w * h) / (width * height)).toFixed(3);
    await take(raw().extract({ left, top, width: w, height: h }));
  }
  if (has('rotation')) {
    const angle = (random() < 0.5 ? -1 : 1) * 10 * intensity * (0.5 + 0.5 * random());
    params.rotation = +Math.max(-9, Math.min(9, angle)).toFixed(2);
    await take(raw().rotate(params.rotation, { background: { r: 255, g: 255, b: 255 } }));
  }
  if (has('greyscale')) {
    await take(raw().greyscale());
    params.greyscale = 1;
  }
  if (has('contrast')) {
    const contrast = 1 - 0.6 * intensity * (0.5 + 0.5 * random());
    const gamma = Math.exp((random() < 0.5 ? -1 : 1) * 0.9 * intensity * (0.5 + 0.5 * random()));
    params.contrast = +contrast.toFixed(3);
    params.gamma = +gamma.toFixed(3);
    const lut = new Uint8Array(256);
    for (let v = 0; v < 256; v++) lut[v] = Math.max(0, Math.min(255, Math.round(255 * Math.pow(Math.max(0, 0.5 + (v / 255 - 0.5) * contrast), gamma))));
    for (let i = 0; i < data.length; i++) data[i] = lut[data[i]!]!;
  }
  if (has('blur')) {
    params.blur = +(0.3 + 2.6 * intensity).toFixed(2);
    await take(raw().blur(params.blur));
  }
  if (has('halftone')) {
    // An amplitude-modulated screen at 45°: each cell's dot grows with the darkness under it.
    const cell = 2.5 + 3.5 * intensity;
    const mix = Math.min(1, 0.4 + intensity);
    params.halftoneCell = +cell.toFixed(2);
    const cos = Math.SQRT1_2;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const u = ((x * cos + y * cos) / cell) * 2 * Math.PI;
        const v = ((-x * cos + y * cos) / cell) * 2 * Math.PI;
        const screen = (Math.cos(u) * Math.cos(v) + 1) * 127.5;
        for (let c = 0; c < channels; c++) {
          const p = (y * width + x) * channels + c;
          const dot = data[p]! > screen ? 255 : 0;
          data[p] = Math.round(mix * dot + (1 - mix) * data[p]!);
        }
      }
    }
  }
  if (has('noise')) {
    const sigma = 30 * intensity;
    params.noise = +sigma.toFixed(1);
    for (let i = 0; i < data.length; i++) data[i] = Math.max(0, Math.min(255, Math.round(data[i]! + sigma * gaussian(random))));
  }
  if (has('borders')) {
    const pad = () => Math.round(0.25 * intensity * random() * Math.max(width, height));
    const shade = [255, 0, 230, 128][Math.floor(random() * 4)]!;
    const background = { r: shade, g: shade, b: shade };
    params.border = shade;
    const frame = random() < 0.5 ? 3 : 0;
    if (frame) await take(raw().extend({ top: frame, bottom: frame, left: frame, right: frame, background: shade > 128 ? { r: 20, g: 20, b: 20 } : { r: 235, g: 235, b: 235 } }));
    await take(raw().extend({ top: pad(), bottom: pad(), left: pad(), right: pad(), background }));
  }
  const quality = has('jpeg') ? Math.round(100 - 89 * intensity) : 95;
  if (has('jpeg')) params.jpegQuality = quality;
  const bytes = await raw().jpeg({ quality }).toBuffer();
  return { bytes, applied: kinds, params };
}
