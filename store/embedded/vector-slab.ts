import { closeSync, existsSync, openSync, readSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { readSidecar, RepriseError, syncFolder, writeDurably } from '../../common/index.ts';
import { KERNEL_STEP, scanKernel, type RowKernel } from './scan-kernels.ts';

/**
 * Every vector of the store once more, as int8 rows side by side in WebAssembly memory, for
 * exact scans of a filtered subset: the HNSW graph cannot be told to search only some items,
 * and reading float32 blobs out of SQLite costs microseconds a vector where this costs about
 * 0.1. A row is the vector scaled so that its largest component is ±127 (the scale kept beside
 * it): the dot products it gives are within about 0.001 of the float32 ones, so a handful of
 * extra candidates, re-scored on the exact vectors in SQLite, gives the exact top hits.
 *
 * Every row of the subset is scored: no coarser first cut (sign-bit codes were tried) keeps the
 * exact top where it matters most, a filter that leaves out the query's own neighbourhood, whose
 * nearest passing items all sit at about the same, low similarity. What a scan costs is then
 * mostly memory, so the store lays the rows out by collection and manifest (`arrange`) whenever it
 * saves the slab: a collection's rows are then read straight through, not a page a row.
 *
 * Vectors are found by key (the HNSW key, `vectors.key`) and by item (a chain of slots per item
 * rowid), so that scoring the items a filter selects costs in proportion to them. Like the
 * HNSW file, the slab is derived: saved beside SQLite with a sidecar naming the store and the
 * generation it reflects, rebuilt from SQLite whenever the file does not vouch for itself.
 */

const PAGE = 65536;
/** The first page holds the query; rows start at the second. */
const BASE = PAGE;
const MAX_PAGES = 65536;
const FORMAT = 'reprise-slab/1';

export class SlabFullError extends RepriseError {
  override readonly name = 'SlabFullError';
}

export interface SlabStamp {
  storeId: string;
  generation: number;
}

interface SlabSidecar extends SlabStamp {
  format: typeof FORMAT;
  /** Rows were laid out by `arrange` (absent in files written before there was a layout). */
  arranged?: boolean;
  dimensions: number;
  count: number;
  bytes: number;
  crc32: number;
}

/** Bytes a file of `count` vectors takes: keys, items, scales, rows. */
const fileBytes = (count: number, stride: number) => count * (8 + 8 + 4 + stride);

const slabSidecar = (file: string) => `${file}.json`;

function grown<T extends Float64Array | Float32Array | Int32Array>(array: T, length: number, fill?: number): T {
  if (array.length >= length) return array;
  const next = new (array.constructor as new (n: number) => T)(Math.max(length, array.length * 2, 1024));
  next.set(array);
  if (fill !== undefined) next.fill(fill, array.length);
  return next;
}

export class VectorSlab {
  /** Bytes a row takes: the dimensions padded to the kernel's step. */
  readonly stride: number;
  private readonly memory: WebAssembly.Memory;
  private readonly kernel: { score: RowKernel; score4: RowKernel };
  private capacity = 0;
  /** Slots handed out so far (live or freed). */
  private used = 0;
  private readonly free: number[] = [];
  private keyOf = new Float64Array(0);
  private itemOf = new Float64Array(0);
  /** Dot of int8 rows × scaleOf[slot] × the query's scale ≈ the cosine. */
  private scaleOf = new Float32Array(0);
  private nextOf = new Int32Array(0);
  private firstOfItem = new Int32Array(0);
  private slotOfKey = new Int32Array(0);
  /** Scratch for putting a scan's slots in memory order; all zero between scans. */
  private marks = new Uint8Array(0);
  /** Live vectors. */
  size = 0;
  /** The rows are in the order `arrange` last gave them: nothing added or removed since. */
  arranged = false;

  private constructor(
    readonly dimensions: number,
    kernel: { score: RowKernel; score4: RowKernel },
    memory: WebAssembly.Memory,
  ) {
    this.stride = Math.ceil(dimensions / KERNEL_STEP) * KERNEL_STEP;
    this.memory = memory;
    this.kernel = kernel;
  }

  /** An empty slab, or undefined where this Node has no WebAssembly SIMD (the store then scans SQLite). */
  static create(dimensions: number): VectorSlab | undefined {
    if (dimensions > PAGE) return undefined;
    const memory = new WebAssembly.Memory({ initial: 2, maximum: MAX_PAGES });
    const kernel = scanKernel(memory);
    return kernel && new VectorSlab(dimensions, kernel, memory);
  }

  /** The end of the rows: scratch space starts here. */
  private get scratchAt(): number {
    return BASE + this.capacity * this.stride;
  }

  /** Makes room for `slots` rows and a scratch area of `scratch` bytes after them. */
  private reserve(slots: number, scratch = 0): void {
    if (slots > this.capacity) {
      const capacity = Math.max(slots, Math.ceil(this.capacity * 1.5), 1024);
      this.ensureBytes(BASE + capacity * this.stride + scratch);
      this.capacity = capacity;
      this.keyOf = grown(this.keyOf, capacity);
      this.itemOf = grown(this.itemOf, capacity);
      this.scaleOf = grown(this.scaleOf, capacity);
      this.nextOf = grown(this.nextOf, capacity);
    } else {
      this.ensureBytes(this.scratchAt + scratch);
    }
  }

  private ensureBytes(bytes: number): void {
    const pages = Math.ceil(bytes / PAGE);
    const have = this.memory.buffer.byteLength / PAGE;
    if (pages <= have) return;
    if (pages > MAX_PAGES) throw new SlabFullError(`the exact-scan copy of the vectors needs ${Math.ceil(bytes / 2 ** 20)} MiB, more than WebAssembly's 4 GiB`);
    try {
      this.memory.grow(Math.max(pages - have, Math.min(MAX_PAGES - have, Math.ceil(have / 4))));
    } catch {
      throw new SlabFullError(`no memory for the exact-scan copy of the vectors (${Math.ceil(bytes / 2 ** 20)} MiB)`);
    }
  }

  /** The item rowid of a vector key, or undefined when the key is not here: an ANN candidate's owner without reading SQLite. */
  itemOfKey(key: number): number | undefined {
    if (key >= this.slotOfKey.length) return undefined;
    const slot = this.slotOfKey[key]!;
    return slot >= 0 ? this.itemOf[slot]! : undefined;
  }

  /** The slots holding an item's vectors: where its rows lie (the layout's tests read it). */
  slotsOfItem(item: number): number[] {
    const slots: number[] = [];
    if (item < this.firstOfItem.length) for (let s = this.firstOfItem[item]!; s >= 0; s = this.nextOf[s]!) slots.push(s);
    return slots.sort((a, b) => a - b);
  }

  has(key: number): boolean {
    return key < this.slotOfKey.length && this.slotOfKey[key]! >= 0;
  }

  /** Adds vectors (unit length, `dimensions` long); a key already present is replaced. */
  add(keys: ArrayLike<number>, items: ArrayLike<number>, vectors: Float32Array[]): void {
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      if (this.has(key)) this.removeOne(key);
      const slot = this.free.pop() ?? this.used++;
      this.reserve(slot + 1);
      this.scaleOf[slot] = quantise(vectors[i]!, new Int8Array(this.memory.buffer, BASE + slot * this.stride, this.stride));
      this.keyOf[slot] = key;
      const item = items[i]!;
      this.itemOf[slot] = item;
      this.firstOfItem = grown(this.firstOfItem, item + 1, -1);
      this.nextOf[slot] = this.firstOfItem[item]!;
      this.firstOfItem[item] = slot;
      this.slotOfKey = grown(this.slotOfKey, key + 1, -1);
      this.slotOfKey[key] = slot;
      this.size++;
    }
    if (keys.length) this.arranged = false;
  }

  remove(keys: ArrayLike<number>): void {
    for (let i = 0; i < keys.length; i++) if (this.has(keys[i]!)) this.removeOne(keys[i]!);
  }

  private removeOne(key: number): void {
    const slot = this.slotOfKey[key]!;
    const item = this.itemOf[slot]!;
    // Unlinked from its item's chain (a few slots: the whole image and its regions).
    if (this.firstOfItem[item] === slot) this.firstOfItem[item] = this.nextOf[slot]!;
    else {
      let s = this.firstOfItem[item]!;
      while (s >= 0 && this.nextOf[s] !== slot) s = this.nextOf[s]!;
      if (s >= 0) this.nextOf[s] = this.nextOf[slot]!;
    }
    this.slotOfKey[key] = -1;
    this.keyOf[slot] = -1;
    this.free.push(slot);
    this.size--;
    this.arranged = false;
  }

  /**
   * Lays the rows out again: the vectors of `itemOrder`'s items side by side in that order, any
   * other live row after them, freed slots dropped. Given an order that keeps a collection's (or a
   * manifest's) items together, a scan of that filter reads memory straight through: at 1M rows of
   * 512 bytes, 100,000 rows one in ten apart take about 29 ms to score here and side by side 11.5,
   * each scattered row costing a page (TLB and cache misses) of its own. Rows move in place, cycle
   * by cycle, so no second copy of the slab is needed.
   */
  arrange(itemOrder: ArrayLike<number>): void {
    const used = this.used;
    // source[j]: the slot whose row goes to slot j; a permutation of every slot, free ones last.
    const source = new Int32Array(used);
    const taken = new Uint8Array(used);
    let j = 0;
    const take = (slot: number) => {
      if (taken[slot]) return;
      taken[slot] = 1;
      source[j++] = slot;
    };
    for (let i = 0; i < itemOrder.length; i++) {
      const item = itemOrder[i]!;
      if (item >= 0 && item < this.firstOfItem.length) for (let s = this.firstOfItem[item]!; s >= 0; s = this.nextOf[s]!) take(s);
    }
    for (let s = 0; s < used; s++) if (this.keyOf[s]! >= 0) take(s);
    const live = j;
    for (let s = 0; s < used; s++) take(s);
    const stride = this.stride;
    const bytes = new Uint8Array(this.memory.buffer);
    const at = (slot: number) => BASE + slot * stride;
    const done = new Uint8Array(used);
    const held = new Uint8Array(stride);
    for (let start = 0; start < used; start++) {
      if (done[start] || source[start] === start) continue;
      held.set(bytes.subarray(at(start), at(start) + stride));
      for (let k = start; ; ) {
        done[k] = 1;
        const from = source[k]!;
        if (from === start) {
          bytes.set(held, at(k));
          break;
        }
        bytes.copyWithin(at(k), at(from), at(from) + stride);
        k = from;
      }
    }
    const keys = Float64Array.from(source.subarray(0, live), (s) => this.keyOf[s]!);
    const items = Float64Array.from(source.subarray(0, live), (s) => this.itemOf[s]!);
    const scales = Float32Array.from(source.subarray(0, live), (s) => this.scaleOf[s]!);
    this.keyOf.set(keys);
    this.itemOf.set(items);
    this.scaleOf.set(scales);
    this.used = live;
    this.free.length = 0;
    this.link();
    this.arranged = true;
  }

  /** Rebuilds the lookups by key and the chains by item from the slots' keys and items. */
  private link(): void {
    this.slotOfKey.fill(-1);
    this.firstOfItem.fill(-1);
    for (let s = 0; s < this.used; s++) {
      const key = this.keyOf[s]!;
      const item = this.itemOf[s]!;
      this.slotOfKey[key] = s;
      this.nextOf[s] = this.firstOfItem[item]!;
      this.firstOfItem[item] = s;
    }
  }

  /**
   * The items with the best approximate score among `items` (item rowids; every vector when
   * undefined), best first, at most `wanted` distinct items, leaving out `exclude`. Each item scores its best
   * vector. With a few more than needed, re-scoring on the exact vectors restores the exact order.
   */
  nearestItems(query: Float32Array, items: ArrayLike<number> | undefined, wanted: number, exclude?: number): number[] {
    const count = items === undefined ? this.size : this.countSlots(items);
    if (count === 0 || wanted <= 0) return [];
    // Scratch: the slot list (padded to a multiple of four for the four-row kernel) and the kernel's output.
    const padded = Math.ceil(count / 4) * 4;
    this.reserve(this.capacity, padded * 8);
    const slotsAt = this.scratchAt;
    const outAt = slotsAt + padded * 4;
    const buffer = this.memory.buffer;
    const slots = new Int32Array(buffer, slotsAt, padded);
    let n = 0;
    if (items === undefined) {
      for (let s = 0; s < this.used; s++) if (this.keyOf[s]! >= 0 && this.itemOf[s] !== exclude) slots[n++] = s;
    } else {
      for (let i = 0; i < items.length; i++) {
        const item = items[i]!;
        if (item === exclude || item >= this.firstOfItem.length) continue;
        for (let s = this.firstOfItem[item]!; s >= 0; s = this.nextOf[s]!) slots[n++] = s;
      }
    }
    quantise(query, new Int8Array(buffer, 0, this.stride));
    if (n === 0) return [];
    n = this.inMemoryOrder(slots, n);
    // The last slot again as padding: its extra scores are never read.
    for (let j = n; j < Math.ceil(n / 4) * 4; j++) slots[j] = slots[n - 1]!;
    this.kernel.score4(0, slotsAt, Math.ceil(n / 4) * 4, BASE, this.stride, outAt);
    const out = new Int32Array(buffer, outAt, n);
    // The best `take` items by a bounded insertion, each at its best slot: few scores beat the
    // running threshold. An item whose regions score too stays one entry, so that `take`
    // distinct items come back however many vectors each has.
    const take = Math.min(n, wanted);
    const bestScore = new Float64Array(take).fill(-Infinity);
    const bestSlot = new Int32Array(take).fill(-1);
    const listed = new Map<number, number>();
    let floor = -Infinity;
    for (let j = 0; j < n; j++) {
      const score = out[j]! * this.scaleOf[slots[j]!]!;
      if (score <= floor) continue;
      const slot = slots[j]!;
      const item = this.itemOf[slot]!;
      const before = listed.get(item);
      if (before !== undefined) {
        if (score <= before) continue;
        // Its lower entry leaves the list, the ones after it move up.
        let i = 0;
        while (this.itemOf[bestSlot[i]!] !== item) i++;
        bestScore.copyWithin(i, i + 1);
        bestSlot.copyWithin(i, i + 1);
        bestScore[take - 1] = -Infinity;
        bestSlot[take - 1] = -1;
      } else if (bestSlot[take - 1]! >= 0) {
        listed.delete(this.itemOf[bestSlot[take - 1]!]!);
      }
      let p = take - 1;
      while (p > 0 && bestScore[p - 1]! < score) {
        bestScore[p] = bestScore[p - 1]!;
        bestSlot[p] = bestSlot[p - 1]!;
        p--;
      }
      bestScore[p] = score;
      bestSlot[p] = slot;
      listed.set(item, score);
      floor = bestScore[take - 1]!;
    }
    const found: number[] = [];
    for (const slot of bestSlot) {
      if (slot < 0) break;
      found.push(this.itemOf[slot]!);
    }
    return found;
  }

  /**
   * Puts the first `n` slots in ascending order, so that rows lying together are read straight
   * through: the filter's rowids follow rowid order, the rows follow the layout. Slots within a
   * span a few times their number (a collection laid out together) are sorted by marking them,
   * ten times faster than a sort here; others by sorting. Returns the count (a slot named twice is kept once).
   */
  private inMemoryOrder(slots: Int32Array, n: number): number {
    let min = Infinity;
    let max = -1;
    let ascending = true;
    for (let j = 0; j < n; j++) {
      const s = slots[j]!;
      if (s < max) ascending = false;
      if (s < min) min = s;
      if (s > max) max = s;
    }
    if (ascending) return n;
    if (max - min > 16 * n) {
      slots.subarray(0, n).sort();
      return n;
    }
    if (this.marks.length < this.used) this.marks = new Uint8Array(Math.max(this.used, this.marks.length * 2));
    const marks = this.marks;
    for (let j = 0; j < n; j++) marks[slots[j]!] = 1;
    let k = 0;
    for (let s = min; s <= max; s++) {
      if (marks[s]) {
        marks[s] = 0;
        slots[k++] = s;
      }
    }
    return k;
  }

  private countSlots(items: ArrayLike<number>): number {
    let count = 0;
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (item >= this.firstOfItem.length) continue;
      for (let s = this.firstOfItem[item]!; s >= 0; s = this.nextOf[s]!) count++;
    }
    return count;
  }

  // --- the file ------------------------------------------------------------------------

  /**
   * Writes the live rows compacted (keys, items, scales, then the rows), durably, then the
   * sidecar that vouches for them; a crash between the two renames leaves a file its sidecar
   * refuses, and the store rebuilds.
   */
  save(file: string, stamp: SlabStamp): void {
    const live: number[] = [];
    for (let s = 0; s < this.used; s++) if (this.keyOf[s]! >= 0) live.push(s);
    const count = live.length;
    let crc = 0;
    let bytes = 0;
    const tmp = writeDurably(file, (path) => {
      const fd = openSync(path, 'w');
      try {
        const write = (chunk: Uint8Array) => {
          crc = crc32(chunk, crc);
          bytes += chunk.byteLength;
          for (let off = 0; off < chunk.byteLength; ) off += writeSync(fd, chunk, off);
        };
        const keys = Float64Array.from(live, (s) => this.keyOf[s]!);
        const items = Float64Array.from(live, (s) => this.itemOf[s]!);
        const scales = Float32Array.from(live, (s) => this.scaleOf[s]!);
        write(new Uint8Array(keys.buffer));
        write(new Uint8Array(items.buffer));
        write(new Uint8Array(scales.buffer));
        // The rows in slot order, 8 MB at a time.
        const memory = new Uint8Array(this.memory.buffer);
        const stride = this.stride;
        const perChunk = Math.max(1, Math.floor((8 << 20) / stride));
        const chunk = new Uint8Array(perChunk * stride);
        for (let i = 0; i < count; i += perChunk) {
          const end = Math.min(count, i + perChunk);
          for (let j = i; j < end; j++) chunk.set(memory.subarray(BASE + live[j]! * stride, BASE + (live[j]! + 1) * stride), (j - i) * stride);
          write(chunk.subarray(0, (end - i) * stride));
        }
      } finally {
        closeSync(fd);
      }
    });
    const sidecar: SlabSidecar = { format: FORMAT, ...stamp, dimensions: this.dimensions, count, bytes, crc32: crc, arranged: this.arranged };
    const tmpSidecar = writeDurably(slabSidecar(file), (path) => writeFileSync(path, JSON.stringify(sidecar)));
    renameSync(tmp, file);
    renameSync(tmpSidecar, slabSidecar(file));
    syncFolder(file);
  }

  /** Loads a saved slab that its sidecar vouches for, made for this store; otherwise says why not. */
  static load(file: string, dimensions: number, storeId: string): { slab: VectorSlab; generation: number; arranged: boolean } | { reason: string } {
    if (!existsSync(file)) return { reason: 'no slab file' };
    const read = readSidecar<SlabSidecar>(slabSidecar(file));
    if ('reason' in read) return read;
    const { sidecar } = read;
    if (sidecar.format !== FORMAT) return { reason: `unknown slab format ${String(sidecar.format)}` };
    if (sidecar.storeId !== storeId) return { reason: 'it belongs to another store' };
    if (sidecar.dimensions !== dimensions) return { reason: `it holds ${sidecar.dimensions}-dimensional vectors, not ${dimensions}` };
    const slab = VectorSlab.create(dimensions);
    if (!slab) return { reason: 'this Node has no WebAssembly SIMD' };
    const { count } = sidecar;
    const expected = fileBytes(count, slab.stride);
    const size = statSync(file).size;
    if (size !== sidecar.bytes || size !== expected) return { reason: `it is ${size} bytes, ${sidecar.bytes} were written (torn write)` };
    try {
      slab.reserve(count);
    } catch (err) {
      return { reason: (err as Error).message };
    }
    const keys = new Float64Array(count);
    const items = new Float64Array(count);
    const fd = openSync(file, 'r');
    let crc = 0;
    try {
      const read = (into: Uint8Array) => {
        for (let off = 0; off < into.byteLength; ) {
          const n = readSync(fd, into, off, Math.min(into.byteLength - off, 64 << 20), null);
          if (n === 0) throw new Error('the file ended early');
          off += n;
        }
        crc = crc32(into, crc);
      };
      read(new Uint8Array(keys.buffer));
      read(new Uint8Array(items.buffer));
      read(new Uint8Array(slab.scaleOf.buffer, 0, count * 4));
      // Rows go straight into place: the file's order is the slots' order.
      const rows = new Uint8Array(slab.memory.buffer, BASE, count * slab.stride);
      for (let off = 0; off < rows.byteLength; off += 64 << 20) read(rows.subarray(off, Math.min(rows.byteLength, off + (64 << 20))));
    } catch (err) {
      return { reason: `it could not be read (${(err as Error).message})` };
    } finally {
      closeSync(fd);
    }
    if (crc !== sidecar.crc32) return { reason: 'its checksum does not match (corrupt)' };
    let maxKey = 0;
    let maxItem = 0;
    for (let s = 0; s < count; s++) {
      if (keys[s]! > maxKey) maxKey = keys[s]!;
      if (items[s]! > maxItem) maxItem = items[s]!;
    }
    slab.slotOfKey = new Int32Array(maxKey + 1);
    slab.firstOfItem = new Int32Array(maxItem + 1);
    slab.keyOf.set(keys);
    slab.itemOf.set(items);
    slab.used = count;
    slab.size = count;
    slab.link();
    slab.arranged = sidecar.arranged === true;
    return { slab, generation: sidecar.generation, arranged: slab.arranged };
  }

  static remove(file: string): void {
    rmSync(file, { force: true });
    rmSync(slabSidecar(file), { force: true });
  }
}

/** Writes `vector` into `row` as int8 (±127 at its largest component, zeros after it) and returns the scale back. */
function quantise(vector: Float32Array, row: Int8Array): number {
  let max = 0;
  for (let i = 0; i < vector.length; i++) {
    const a = Math.abs(vector[i]!);
    if (a > max) max = a;
  }
  if (max === 0) {
    row.fill(0);
    return 0;
  }
  const scale = 127 / max;
  for (let i = 0; i < vector.length; i++) row[i] = Math.round(vector[i]! * scale);
  row.fill(0, vector.length);
  return 1 / scale;
}
