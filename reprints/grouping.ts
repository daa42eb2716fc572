import type { Rect } from './features/index.ts';
import type { ReprintItem, StoredPair } from './reprint-index/index.ts';
import type { CoordinateSpace } from './types.ts';
import { overlapsMostly, samePrinting } from './same-printing.ts';

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

type GroupMember = RawGroup['members'][number];

/**
 * Connected components of the reprint graph (union–find). Each member's region comes from its
 * strongest pair; groups are ordered by size, then by their first member's id, so output is stable.
 * Members that are one printing (a canvas and its own region item, joined through other printings)
 * count once (foldSamePrintings); `keep` is the item whose group is asked for, never folded away.
 */
export function groupPairs(pairs: StoredPair[], lookup: (doc: number) => Member | undefined, keep?: string): RawGroup[] {
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
    const into = foldSamePrintings(found.map((f) => f.member), keep);
    const members = found.map((f) => f.member).filter((m) => !into.has(m.id));
    if (members.length < 2) continue;
    for (const [from, to] of into) {
      const kept = members.find((m) => m.id === to)!;
      kept.inliers = Math.max(kept.inliers, found.find((f) => f.member.id === from)!.member.inliers);
    }
    const ids = new Map(found.map((f) => [f.doc, into.get(f.member.id) ?? f.member.id]));
    const joined = new Map<string, { a: string; b: string; inliers: number }>();
    for (const p of pairsByRoot.get(root) ?? []) {
      const a = ids.get(p.a);
      const b = ids.get(p.b);
      if (a === undefined || b === undefined || a === b) continue;
      const key = a < b ? `${a}\n${b}` : `${b}\n${a}`;
      const current = joined.get(key);
      if (!current || p.inliers > current.inliers) joined.set(key, { a, b, inliers: p.inliers });
    }
    groups.push({ members: members.sort((x, y) => x.id.localeCompare(y.id)), pairs: [...joined.values()] });
  }
  return groups.sort((x, y) => y.members.length - x.members.length || x.members[0]!.id.localeCompare(y.members[0]!.id));
}

/** Where a member is on its canvas: a region item's box, else the part its strongest pair matched. */
function placeOnCanvas(m: GroupMember): Rect {
  if (m.item.region) return m.item.region.box;
  const { scaleX, scaleY, offsetX = 0, offsetY = 0 } = m.space;
  return { x: m.region.x * scaleX + offsetX, y: m.region.y * scaleY + offsetY, w: m.region.w * scaleX, h: m.region.h * scaleY };
}

/**
 * Members of one group that are one printing (same-printing.ts) over the same place of the canvas:
 * a canvas and its own region item, which the comparison never pairs but other printings join. The
 * region item is kept (its box and words name the photograph), unless the other is `keep`; a canvas
 * that matched elsewhere on its page (a second printing there) stays a member of its own. Returns
 * the id each folded member went into.
 */
function foldSamePrintings(members: GroupMember[], keep?: string): Map<string, string> {
  const order = [...members].sort(
    (x, y) => Number(y.id === keep) - Number(x.id === keep) || Number(!!y.item.region) - Number(!!x.item.region) || y.inliers - x.inliers || x.id.localeCompare(y.id),
  );
  const kept: GroupMember[] = [];
  const into = new Map<string, string>();
  for (const m of order) {
    const same = kept.find((k) => samePrinting(k, m) && overlapsMostly(placeOnCanvas(k), placeOnCanvas(m)));
    if (same) into.set(m.id, same.id);
    else kept.push(m);
  }
  return into;
}
