/**
 * Relabelling a whole index after the label sets changed (`reprise relabel`): every stored item is
 * labelled again from its stored whole-image vector, a page at a time. No image is fetched,
 * decoded or embedded; only the text tower ran, once, to embed the new prompts.
 */
import type { Labeller } from '../models/index.ts';
import type { ItemFields, ItemFilter, VectorStore } from '../store/index.ts';
import { assertRelabelsFromVectors, LABEL_SCORES_KEY, relabelled } from './item-labels.ts';

/** Items read and written per page: bounds memory (each carries its vectors) and the work lost to an interruption. */
export const RELABEL_PAGE_SIZE = 500;

export interface RelabelProgress {
  /** Items read so far. */
  done: number;
  /** Items in the index when the run began (the scan may see a few more or fewer if a harvest writes meanwhile). */
  total: number;
}

export interface RelabelSummary {
  status: 'completed' | 'interrupted';
  /** Items read. */
  items: number;
  /** Items labelled again (those with a vector). */
  relabelled: number;
  /** Of those, items whose labels are now different. */
  changed: number;
  /** Items stored without a vector (harvested without a model): left as they are. */
  withoutVector: number;
  /** How many items now carry each label the model gave, most frequent first. */
  labels: Record<string, number>;
  durationMs: number;
}

export interface RelabelOptions {
  filter?: ItemFilter;
  pageSize?: number;
  onProgress?: (progress: RelabelProgress) => void;
  /** Stops between pages: what was written stays written, and a second run completes the rest. */
  signal?: AbortSignal;
}

export async function relabelCollection(store: VectorStore, labeller: Labeller, opts: RelabelOptions = {}): Promise<RelabelSummary> {
  assertRelabelsFromVectors(labeller);
  const startedAt = Date.now();
  const pageSize = Math.max(1, Math.min(opts.pageSize ?? RELABEL_PAGE_SIZE, 10_000));
  const total = (await store.stats()).items;
  const counts = new Map<string, number>();
  const summary: RelabelSummary = { status: 'completed', items: 0, relabelled: 0, changed: 0, withoutVector: 0, labels: {}, durationMs: 0 };
  opts.onProgress?.({ done: 0, total });
  let after: string | undefined;
  do {
    if (opts.signal?.aborted) {
      summary.status = 'interrupted';
      break;
    }
    const page = await store.scan({ limit: pageSize, ...(opts.filter ? { filter: opts.filter } : {}), ...(after !== undefined ? { after } : {}) });
    const updated = relabelled(labeller, page.items);
    const before = new Map(page.items.map((s) => [s.item.id, s.item.labels]));
    if (updated.length) await store.updateFields(updated);
    for (const item of updated) {
      if (!sameLabels(before.get(item.id) ?? [], item.labels)) summary.changed++;
      for (const label of modelLabels(item)) counts.set(label, (counts.get(label) ?? 0) + 1);
    }
    summary.items += page.items.length;
    summary.relabelled += updated.length;
    summary.withoutVector += page.items.length - updated.length;
    opts.onProgress?.({ done: summary.items, total: Math.max(total, summary.items) });
    after = page.next;
  } while (after !== undefined);
  summary.labels = Object.fromEntries([...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
  summary.durationMs = Date.now() - startedAt;
  return summary;
}

/** The labels of an item the model gave: those it recorded a score for. */
function modelLabels(item: ItemFields): string[] {
  const scores = item.record[LABEL_SCORES_KEY] as Record<string, number> | undefined;
  return scores ? item.labels.filter((l) => l in scores) : [];
}

function sameLabels(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((l, i) => l === b[i]);
}
