/**
 * The model's labels on the items the index stores: added when a canvas is embedded, kept when
 * only its metadata changes, and recomputed from stored vectors when the label sets change
 * (models/labels/labeller.ts computes them). Facet values go in `labels`; their scores in the
 * record, as `labelScores` (value → probability), which item details return.
 */
import { Labeller, type ItemLabels } from '../models/index.ts';
import type { Encoders } from '../models/index.ts';
import type { ItemFields, VectorStore } from '../store/index.ts';

export const LABEL_SCORES_KEY = 'labelScores';

const labellers = new WeakMap<Encoders, Promise<Labeller | undefined>>();

/** The labeller of these encoders, built once (a CLIP model embeds its prompts then); undefined when nothing is configured. */
export function labellerFor(encoders: Encoders): Promise<Labeller | undefined> {
  let labeller = labellers.get(encoders);
  if (!labeller) {
    // Encoders made by hand (tests of other stages) carry no label configuration.
    labeller = encoders.labels ? Labeller.create(encoders, encoders.labels).then((l) => (l.active ? l : undefined)) : Promise.resolve(undefined);
    labellers.set(encoders, labeller);
  }
  return labeller;
}

/** The fields with the model's labels: stored labels the model gave before are replaced, others kept. */
export function withLabels(fields: ItemFields, labels: ItemLabels | undefined, previous?: ItemFields): ItemFields {
  if (!labels) return fields;
  const old = new Set(Object.keys(scoresOf(previous ?? fields)));
  const kept = fields.labels.filter((l) => !old.has(l));
  const record = { ...fields.record, [LABEL_SCORES_KEY]: labels.scores };
  return { ...fields, labels: [...new Set([...kept, ...labels.labels])], record };
}

/**
 * Metadata updates rebuild an item's fields from its IIIF record, which knows nothing of the
 * model: the labels and scores the model gave are carried over from what is stored.
 */
export async function keepModelLabels(store: VectorStore, fields: ItemFields[]): Promise<ItemFields[]> {
  const stored = await Promise.all(fields.map((f) => store.get(f.id)));
  return fields.map((f, i) => {
    const before = stored[i];
    const scores = before ? scoresOf(before) : {};
    if (!Object.keys(scores).length) return f;
    return withLabels(f, { labels: before!.labels.filter((l) => l in scores), scores });
  });
}

/**
 * Labels stored items again from their stored vectors, after the label sets changed: no image is
 * fetched or embedded. Items without a vector are left as they are. Returns how many were updated.
 */
export async function relabelItems(store: VectorStore, labeller: Labeller, ids: string[]): Promise<number> {
  assertRelabelsFromVectors(labeller);
  const [vectors, items] = await Promise.all([store.vectors(ids), Promise.all(ids.map((id) => store.get(id)))]);
  const updated = relabelled(
    labeller,
    items.flatMap((item, i) => (item ? [{ item, vector: vectors[i] }] : [])),
  );
  if (updated.length) await store.updateFields(updated);
  return updated.length;
}

/** Refuses a labeller whose labels do not come from the image vector (a classifier's class scores are not stored). */
export function assertRelabelsFromVectors(labeller: Labeller): void {
  if (!labeller.fromVectors) throw new Error('this model labels from its class scores, which are not stored: its categories change only when images are embedded again');
}

/** The fields of stored items with the labeller's labels for their stored vectors; items without a vector are left out. */
export function relabelled(labeller: Labeller, stored: Array<{ item: ItemFields; vector?: Float32Array }>): ItemFields[] {
  return stored.flatMap(({ item, vector }) => (vector ? [withLabels(item, labeller.fromVector(vector), item)] : []));
}

function scoresOf(fields: ItemFields): Record<string, number> {
  const scores = (fields.record as Record<string, unknown> | undefined)?.[LABEL_SCORES_KEY];
  return scores && typeof scores === 'object' && !Array.isArray(scores) ? (scores as Record<string, number>) : {};
}
