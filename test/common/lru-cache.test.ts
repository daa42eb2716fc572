import assert from 'node:assert/strict';
import { LruCache } from '../../common/lru-cache.ts';

describe('LruCache', () => {
  it('keeps at least the last `capacity` keys used and never more than twice as many', () => {
    const cache = new LruCache<number, number>(100);
    for (let i = 0; i < 1000; i++) {
      cache.set(i, i * 2);
      assert.ok(cache.size <= 200, `size ${cache.size} after ${i + 1} inserts`);
    }
    for (let i = 900; i < 1000; i++) assert.equal(cache.get(i), i * 2);
    assert.equal(cache.get(0), undefined);
  });

  it('keeps a key that is read again while others come and go', () => {
    const cache = new LruCache<string, string>(10);
    cache.set('hot', 'kept');
    for (let i = 0; i < 1000; i++) {
      cache.set(`k${i}`, 'x');
      assert.equal(cache.get('hot'), 'kept', `lost after ${i + 1} other keys`);
    }
  });

  it('replaces a value, clears, and stores nothing at capacity 0', () => {
    const cache = new LruCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    cache.set('a', 4);
    assert.equal(cache.get('a'), 4);
    cache.clear();
    assert.equal(cache.size, 0);
    assert.equal(cache.get('c'), undefined);
    const none = new LruCache<string, number>(0);
    none.set('a', 1);
    assert.equal(none.get('a'), undefined);
  });
});
