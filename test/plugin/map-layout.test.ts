/** The map's layout (plugin/map): what is near in the vectors is near on the map, and apart what is apart. */
import assert from 'node:assert/strict';
import { computeLayout } from '../../plugin/map/layout.ts';
import { prng } from '../store/store-suite.ts';

/** n points in `clusters` well separated groups (point i in group i % clusters), with noise. */
function clustered(n: number, clusters: number, dimensions: number, seed = 7): Float32Array {
  const rand = prng(seed);
  const centres = Array.from({ length: clusters }, () => Array.from({ length: dimensions }, () => rand() * 2 - 1));
  const v = new Float32Array(n * dimensions);
  for (let i = 0; i < n; i++) for (let d = 0; d < dimensions; d++) v[i * dimensions + d] = centres[i % clusters]![d]! * 3 + (rand() - 0.5);
  return v;
}

describe('map: layout of a collection\'s vectors', function () {
  this.timeout(120_000);

  it('keeps clusters together and apart, inside the unit square', () => {
    const n = 900;
    const clusters = 3;
    const vectors = clustered(n, clusters, 48);
    const xy = computeLayout(vectors, n, 48);
    assert.equal(xy.length, n * 2);
    assert.ok(xy.every((x) => x >= 0 && x <= 1), 'in the unit square');
    const centre = (c: number) => {
      let x = 0, y = 0, m = 0;
      for (let i = c; i < n; i += clusters) ((x += xy[2 * i]!), (y += xy[2 * i + 1]!), m++);
      return [x / m, y / m] as const;
    };
    const centres = Array.from({ length: clusters }, (_, c) => centre(c));
    const spread = (c: number) => {
      let s = 0, m = 0;
      for (let i = c; i < n; i += clusters) ((s += Math.hypot(xy[2 * i]! - centres[c]![0], xy[2 * i + 1]! - centres[c]![1])), m++);
      return s / m;
    };
    const apart = Math.min(...centres.flatMap((a, i) => centres.slice(i + 1).map((b) => Math.hypot(a[0] - b[0], a[1] - b[1]))));
    const within = Math.max(...centres.map((_, c) => spread(c)));
    assert.ok(apart > 4 * within, `clusters ${apart.toFixed(3)} apart, each ${within.toFixed(3)} across`);
  });

  it('lays out the smallest collections too', () => {
    assert.equal(computeLayout(new Float32Array(0), 0, 8).length, 0);
    assert.deepEqual(Array.from(computeLayout(Float32Array.from([1, 0, 0, 0]), 1, 4)), [0.5, 0.5]);
    const few = computeLayout(clustered(6, 2, 8), 6, 8);
    assert.equal(few.length, 12);
    assert.ok(few.every((x) => Number.isFinite(x) && x >= 0 && x <= 1));
  });
});
