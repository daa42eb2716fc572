/**
 * Labels for the `labels` facet, from what a model already computes for every image:
 *
 * - CLIP-family models, zero-shot: each configured set's labels are put into the prompt templates,
 *   embedded once with the text tower and averaged per label (CLIP's prompt ensembling); an image
 *   gets, per set, the label its vector is nearest to when the softmax over the set gives it at
 *   least `minScore`. Only the image vector is needed, so a collection is relabelled after the sets
 *   change without embedding an image again.
 * - Image classifiers: the top categories of the class scores the same inference returns.
 *
 * Facet values are `set:label` (`genre:photograph`, `imagenet:house finch`). What the labels are
 * worth depends on the model's weights; only the mechanics are tested in this repository.
 */
import type { LabelsConfig } from '../../config/index.ts';
import type { EmbeddedImage } from '../image-encoder.ts';
import type { Encoders } from '../encoders.ts';

export interface ItemLabels {
  /** Facet values, best first within each set. */
  labels: string[];
  /** Each facet value's probability (softmax within its set, or over the classifier's classes), to 3 decimals. */
  scores: Record<string, number>;
}

/** At most this many texts are embedded for a labeller (sets × labels × templates), so a config cannot stall start-up. */
export const MAX_PROMPTS = 4000;

interface ZeroShotSet {
  name: string;
  labels: string[];
  /** One L2-normalised vector per label, row-major. */
  vectors: Float32Array[];
}

export class Labeller {
  private constructor(
    private readonly zeroShot: ZeroShotSet[],
    private readonly classifier: { classes: string[]; topK: number; labelSet: string } | undefined,
    private readonly minScore: number,
    private readonly logitScale: number,
  ) {}

  /** The labeller of a model: zero-shot sets for a CLIP model (its text tower embeds the prompts now), categories for a classifier. */
  static async create(encoders: Encoders, config: LabelsConfig): Promise<Labeller> {
    if (encoders.kind === 'classifier') {
      const { classes, topK, labelSet } = encoders.classifier;
      return new Labeller([], classes.length ? { classes, topK, labelSet } : undefined, config.minScore, config.logitScale);
    }
    const sets = Object.entries(config.sets);
    const prompts = sets.reduce((n, [, labels]) => n + labels.length * config.templates.length, 0);
    if (prompts > MAX_PROMPTS) {
      throw new RangeError(`models.labels asks for ${prompts} prompt embeddings (sets × labels × templates); at most ${MAX_PROMPTS}`);
    }
    const zeroShot: ZeroShotSet[] = [];
    for (const [name, labels] of sets) {
      const texts = labels.flatMap((label) => config.templates.map((t) => t.replaceAll('{}', label)));
      const embedded = await encoders.text.embed(texts);
      const per = config.templates.length;
      const vectors = labels.map((_, i) => meanDirection(embedded.slice(i * per, (i + 1) * per)));
      zeroShot.push({ name, labels, vectors });
    }
    return new Labeller(zeroShot, undefined, config.minScore, config.logitScale);
  }

  /** Whether this labeller gives any labels at all. */
  get active(): boolean {
    return this.zeroShot.length > 0 || this.classifier !== undefined;
  }

  /** Whether labels come from the image vector alone (zero-shot), so stored vectors can be relabelled. */
  get fromVectors(): boolean {
    return this.classifier === undefined;
  }

  /** Labels of one embedded image. */
  label(embedded: EmbeddedImage): ItemLabels {
    if (this.classifier) return embedded.logits ? this.categories(embedded.logits) : { labels: [], scores: {} };
    return this.fromVector(embedded.vector);
  }

  /** Zero-shot labels of an image vector (stored or fresh). */
  fromVector(vector: Float32Array): ItemLabels {
    const out: ItemLabels = { labels: [], scores: {} };
    for (const set of this.zeroShot) {
      const probs = softmax(set.vectors.map((v) => this.logitScale * dot(v, vector)));
      let best = 0;
      for (let i = 1; i < probs.length; i++) if (probs[i]! > probs[best]!) best = i;
      if (probs[best]! >= this.minScore) {
        const value = `${set.name}:${set.labels[best]}`;
        out.labels.push(value);
        out.scores[value] = round3(probs[best]!);
      }
    }
    return out;
  }

  private categories(logits: Float32Array): ItemLabels {
    const { classes, topK, labelSet } = this.classifier!;
    const probs = softmax(Array.from(logits));
    const order = [...probs.keys()].sort((a, b) => probs[b]! - probs[a]!).slice(0, topK);
    const out: ItemLabels = { labels: [], scores: {} };
    for (const k of order) {
      const name = classes[k];
      if (name === undefined) continue;
      const value = `${labelSet}:${name}`;
      if (value in out.scores) continue;
      out.labels.push(value);
      out.scores[value] = round3(probs[k]!);
    }
    return out;
  }
}

function meanDirection(vectors: Float32Array[]): Float32Array {
  const out = new Float32Array(vectors[0]!.length);
  for (const v of vectors) for (let i = 0; i < out.length; i++) out[i]! += v[i]!;
  const norm = Math.sqrt(out.reduce((s, x) => s + x * x, 0)) || 1;
  for (let i = 0; i < out.length; i++) out[i]! /= norm;
  return out;
}

function softmax(values: number[]): number[] {
  const max = Math.max(...values);
  const e = values.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
