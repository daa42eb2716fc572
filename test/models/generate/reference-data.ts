/** Loads OpenAI CLIP's reference outputs (fixtures/clip/clip_data.json) as the generator's tests use them. */
import { readFileSync } from 'node:fs';
import { fixture } from '../../support/fixtures.ts';
import type { VisionTowerConfig } from '../../../models/generate/architecture.ts';
import type { NestedNumbers } from '../../../models/generate/weights.ts';

export interface ClipReferenceData {
  vit_config: { input_resolution: number; patch_size: number; width: number; layers: number; heads: number; output_dim: number };
  vit_input: NestedNumbers;
  vit_weights: Record<string, NestedNumbers>;
  vit_output: NestedNumbers;
  attn_config: { d_model: number; n_head: number };
  attn_input: NestedNumbers;
  attn_weights: Record<string, NestedNumbers>;
  attn_output: NestedNumbers;
}

let cached: ClipReferenceData | undefined;

export function clipReferenceData(): ClipReferenceData {
  cached ??= JSON.parse(readFileSync(fixture('clip', 'clip_data.json'), 'utf8')) as ClipReferenceData;
  return cached;
}

export function referenceVisionConfig(d: ClipReferenceData): VisionTowerConfig {
  const c = d.vit_config;
  return { imageSize: c.input_resolution, patchSize: c.patch_size, width: c.width, layers: c.layers, heads: c.heads, outputDim: c.output_dim };
}

/** [n, h, w, c] → [n, c, h, w]: the fixture stores the image channels-last, the model takes channels-first. */
export function nhwcToNchw(data: Float32Array, dims: readonly number[]): { data: Float32Array; dims: number[] } {
  const [n, h, w, c] = dims as [number, number, number, number];
  const out = new Float32Array(data.length);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let k = 0; k < c; k++) out[((b * c + k) * h + y) * w + x] = data[((b * h + y) * w + x) * c + k]!;
  return { data: out, dims: [n, c, h, w] };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}
