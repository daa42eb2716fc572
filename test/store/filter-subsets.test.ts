/**
 * What the embedded store keeps about a filter while the database is unchanged (issue 21): the
 * membership test made from its listed items, within the cache's bound, and whether the index is
 * worth asking first — a filter for which the index keeps coming up short is scanned first, with
 * the index tried again now and then, and a commit forgets it all.
 */
import assert from 'node:assert/strict';
import { FilterSubsets } from '../../store/embedded/filter-subsets.ts';
import { compileFilter } from '../../store/embedded/filters.ts';

describe('filter subsets: membership and whether to ask the index first', () => {
  const maps = compileFilter({ collection: 'Maps' });
  const photos = compileFilter({ collection: 'Photographs' });

  it('answers membership from the listed rowids, dense or sparse, and only once they are listed', () => {
    const subsets = new FilterSubsets(1_000_000);
    subsets.set(maps, 'v1', { count: 3 });
    assert.equal(subsets.members(maps, 'v1'), undefined, 'counted, not listed: no membership');
    const dense = Int32Array.from({ length: 5000 }, (_, i) => 2 * i + 1);
    subsets.set(maps, 'v1', { count: dense.length, rowids: dense });
    const passes = subsets.members(maps, 'v1')!;
    assert.deepEqual([1, 2, 3, 9999, 10_000, 10_001, 0].filter(passes), [1, 3, 9999]);
    const sparse = Int32Array.of(7, 500_000, 900_001);
    subsets.set(photos, 'v1', { count: 3, rowids: sparse });
    assert.deepEqual([7, 8, 500_000, 900_001, 900_002].filter(subsets.members(photos, 'v1')!), [7, 500_000, 900_001]);
    assert.equal(subsets.members(maps, 'v2'), undefined, 'a commit forgets the subsets');
  });

  it('keeps within its bound, the membership counted, the least recently used going first', () => {
    // 32,500 bytes: two listings of 4,000 rowids (16,000 bytes each) fit; a bitmap over rowids up to 8,000 (1,000 bytes) more does not.
    const subsets = new FilterSubsets(32_500);
    const rowids = Int32Array.from({ length: 4000 }, (_, i) => 2 * i);
    subsets.set(maps, 'v', { count: rowids.length, rowids });
    subsets.set(photos, 'v', { count: rowids.length, rowids: rowids.slice() });
    assert.ok(subsets.members(maps, 'v'), 'both fit while only listed (32,000 bytes)');
    // The bitmap pushes the total over 32,500: photographs, used least recently, goes.
    assert.equal(subsets.get(photos, 'v'), undefined);
    assert.ok(subsets.get(maps, 'v')?.rowids);
  });

  it('scans first once the index has mostly come up short for a filter, tries it again one query in 16, and forgets on commit', () => {
    const subsets = new FilterSubsets(1_000_000);
    subsets.set(maps, 'v1', { count: 100_000 });
    subsets.set(photos, 'v1', { count: 100_000 });
    for (let i = 0; i < 3; i++) {
      assert.equal(subsets.indexWorthTrying(maps, 'v1'), true, 'tried while there are fewer than three outcomes');
      subsets.recordIndex(maps, 'v1', true);
      subsets.recordIndex(photos, 'v1', i === 0);
    }
    const asks = Array.from({ length: 32 }, () => subsets.indexWorthTrying(maps, 'v1'));
    assert.equal(asks.filter(Boolean).length, 2, 'the index is tried again on one query in 16');
    assert.ok(Array.from({ length: 8 }, () => subsets.indexWorthTrying(photos, 'v1')).every(Boolean), 'short once in three: still asked first');
    // The outcomes survive the filter's listing (a scan lists it after the index came up short).
    subsets.set(maps, 'v1', { count: 100_000, rowids: Int32Array.of(1, 2, 3) });
    assert.equal(Array.from({ length: 15 }, () => subsets.indexWorthTrying(maps, 'v1')).filter(Boolean).length, 0);
    // Recent outcomes weigh most: enough answers by the index bring it back first.
    for (let i = 0; i < 40; i++) subsets.recordIndex(maps, 'v1', false);
    assert.equal(subsets.indexWorthTrying(maps, 'v1'), true);
    subsets.set(photos, 'v2', { count: 1 });
    assert.equal(subsets.get(maps, 'v2'), undefined, 'a commit forgets how the index fared');
  });
});
