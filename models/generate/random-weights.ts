/**
 * Deterministic random weights with the scales CLIP is initialised with (clip.model's
 * initialize_parameters and PyTorch's layer defaults), so activations through a generated
 * model stay in the range a real one sees. Each tensor draws from its own stream, seeded
 * from the seed and the tensor's name: the same seed gives the same bytes whatever order
 * tensors are made in, and changing one size leaves unrelated tensors alone.
 */
import type { TextTowerConfig, VisionTowerConfig } from './architecture.ts';
import type { WeightTensor } from './weights.ts';

/** cyrb128: a string hash spreading into four 32-bit words, to seed sfc32. */
function hash128(text: string): [number, number, number, number] {
  let h1 = 1779033703, h2 = 3144134277, h3 = 1013904242, h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  return [(h1 ^ h2 ^ h3 ^ h4) >>> 0, (h2 ^ h1) >>> 0, (h3 ^ h1) >>> 0, (h4 ^ h1) >>> 0];
}

/** sfc32: small, fast, and good enough statistically for weights; uniform in [0, 1). */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | undefined;

  constructor(seed: number, stream = '') {
    [this.a, this.b, this.c, this.d] = hash128(`${seed}\u0000${stream}`);
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Standard normal by Box–Muller, both values of each pair used. */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    const u1 = (this.nextUint32() + 1) / 4294967297; // (0, 1]: log never sees 0
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }
}

type Init = { kind: 'normal'; std: number } | { kind: 'uniform'; bound: number } | { kind: 'fill'; value: number };

function makeTensor(seed: number, name: string, dims: readonly number[], init: Init): WeightTensor {
  const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
  if (init.kind === 'fill') {
    data.fill(init.value);
  } else {
    const rng = new Prng(seed, name);
    if (init.kind === 'normal') for (let i = 0; i < data.length; i++) data[i] = rng.normal() * init.std;
    else for (let i = 0; i < data.length; i++) data[i] = (rng.uniform() * 2 - 1) * init.bound;
  }
  return { dims, data };
}

class WeightMaker {
  readonly weights = new Map<string, WeightTensor>();
  /** `streamPrefix` is the tower's prefix in a whole CLIP state dict ("visual." or ""), keeping the towers' same-named tensors apart. */
  constructor(
    private readonly seed: number,
    private readonly streamPrefix: string,
  ) {}

  add(name: string, dims: readonly number[], init: Init): void {
    this.weights.set(name, makeTensor(this.seed, `${this.streamPrefix}${name}`, dims, init));
  }

  layerNorm(prefix: string, width: number): void {
    this.add(`${prefix}.weight`, [width], { kind: 'fill', value: 1 });
    this.add(`${prefix}.bias`, [width], { kind: 'fill', value: 0 });
  }

  /** clip.model.Transformer's blocks, initialised as CLIP.initialize_parameters does. */
  resblocks(prefix: string, width: number, layers: number): void {
    const attnStd = width ** -0.5;
    const projStd = width ** -0.5 * (2 * layers) ** -0.5;
    const fcStd = (2 * width) ** -0.5;
    for (let i = 0; i < layers; i++) {
      const p = `${prefix}${i}.`;
      this.add(`${p}attn.in_proj_weight`, [3 * width, width], { kind: 'normal', std: attnStd });
      this.add(`${p}attn.in_proj_bias`, [3 * width], { kind: 'fill', value: 0 });
      this.add(`${p}attn.out_proj.weight`, [width, width], { kind: 'normal', std: projStd });
      this.add(`${p}attn.out_proj.bias`, [width], { kind: 'fill', value: 0 });
      this.layerNorm(`${p}ln_1`, width);
      this.add(`${p}mlp.c_fc.weight`, [4 * width, width], { kind: 'normal', std: fcStd });
      // nn.Linear's default bias: uniform within 1/sqrt(fan_in).
      this.add(`${p}mlp.c_fc.bias`, [4 * width], { kind: 'uniform', bound: width ** -0.5 });
      this.add(`${p}mlp.c_proj.weight`, [width, 4 * width], { kind: 'normal', std: projStd });
      this.add(`${p}mlp.c_proj.bias`, [width], { kind: 'uniform', bound: (4 * width) ** -0.5 });
      this.layerNorm(`${p}ln_2`, width);
    }
  }
}

/** A VisionTransformer state dict (clip.model.VisionTransformer's keys, without the "visual." prefix). */
export function randomVisionWeights(cfg: VisionTowerConfig, seed: number): Map<string, WeightTensor> {
  const m = new WeightMaker(seed, 'visual.');
  const { width, patchSize } = cfg;
  const scale = width ** -0.5;
  const tokens = (cfg.imageSize / patchSize) ** 2 + 1;
  m.add('class_embedding', [width], { kind: 'normal', std: scale });
  m.add('positional_embedding', [tokens, width], { kind: 'normal', std: scale });
  m.add('proj', [width, cfg.outputDim], { kind: 'normal', std: scale });
  // nn.Conv2d's default (kaiming uniform with a = √5): uniform within 1/sqrt(fan_in).
  m.add('conv1.weight', [width, 3, patchSize, patchSize], { kind: 'uniform', bound: (3 * patchSize * patchSize) ** -0.5 });
  m.layerNorm('ln_pre', width);
  m.resblocks('transformer.resblocks.', width, cfg.layers);
  m.layerNorm('ln_post', width);
  return m.weights;
}

/** The text half of a CLIP state dict (token_embedding, positional_embedding, transformer, ln_final, text_projection). */
export function randomTextWeights(cfg: TextTowerConfig, seed: number): Map<string, WeightTensor> {
  const m = new WeightMaker(seed, '');
  const { width } = cfg;
  m.add('token_embedding.weight', [cfg.vocabSize, width], { kind: 'normal', std: 0.02 });
  m.add('positional_embedding', [cfg.contextLength, width], { kind: 'normal', std: 0.01 });
  m.resblocks('transformer.resblocks.', width, cfg.layers);
  m.layerNorm('ln_final', width);
  m.add('text_projection', [width, cfg.outputDim], { kind: 'normal', std: width ** -0.5 });
  return m.weights;
}
