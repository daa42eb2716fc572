import type { Rect } from '../models/index.ts';
import type { ReprintItem, StoredPair } from '../store/index.ts';
import type { CoordinateSpace } from './types.ts';

interface Member {
  id: string;
  item: ReprintItem;
  space: CoordinateSpace;
}

export interface RawGroup {
  /** Each member's region and inliers come from its strongest pair. */
  members: Array<Member & { region: Rect; inliers: number }>;
  pairs: Array<{ a: string; b: string; inliers: number }>;
}

/**
 * Connected components of the reprint graph (union–find). Each member's region comes from its
 * strongest pair; groups are ordered by size, then by their first member's id, so output is stable.
 */
export function groupPairs(pairs: StoredPair[], lookup: (doc: number) => Member | undefined): RawGroup[] {
  const parent = new Map<number, number>();
  const find = (x: number): number => {
    let root = x;
    while (parent.get(root)! !== root) root = parent.get(root)!;
    while (parent.get(x)! !== root) {
      const next = parent.get(x)!;
      parent.set(x, root);
      x = next;
    }
    return root;
  };
  const best = new Map<number, { inliers: number; region: Rect }>();
  const note = (doc: number, inliers: number, region: Rect) => {
    if (!parent.has(doc)) parent.set(doc, doc);
    const current = best.get(doc);
    if (!current || inliers > current.inliers) best.set(doc, { inliers, region });
  };
  for (const p of pairs) {
    note(p.a, p.inliers, p.regionA);
    note(p.b, p.inliers, p.regionB);
    const ra = find(p.a);
    const rb = find(p.b);
    if (ra !== rb) parent.set(Math.max(ra, rb), Math.min(ra, rb));
  }
  const components = new Map<number, number[]>();
  for (const doc of parent.keys()) {
    const root = find(doc);
    const list = components.get(root);
    if (list) list.push(doc);
    else components.set(root, [doc]);
  }
  const pairsByRoot = new Map<number, StoredPair[]>();
  for (const p of pairs) {
    const root = find(p.a);
    const list = pairsByRoot.get(root);
    if (list) list.push(p);
    else pairsByRoot.set(root, [p]);
  }
  const groups: RawGroup[] = [];
  for (const [root, docs] of components) {
    const found = docs
      .sort((x, y) => x - y)
      .flatMap((doc) => {
        const m = lookup(doc);
        return m ? [{ doc, member: { ...m, region: best.get(doc)!.region, inliers: best.get(doc)!.inliers } }] : [];
      });
    if (found.length < 2) continue;
    const ids = new Map(found.map((f) => [f.doc, f.member.id]));
    const members = found.map((f) => f.member);
    const groupPairs = (pairsByRoot.get(root) ?? [])
      .filter((p) => ids.has(p.a) && ids.has(p.b))
      .map((p) => ({ a: ids.get(p.a)!, b: ids.get(p.b)!, inliers: p.inliers }));
    groups.push({ members: members.sort((x, y) => x.id.localeCompare(y.id)), pairs: groupPairs });
  }
  return groups.sort((x, y) => y.members.length - x.members.length || x.members[0]!.id.localeCompare(y.members[0]!.id));
}
