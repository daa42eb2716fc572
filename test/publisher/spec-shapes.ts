import assert from 'node:assert/strict';

/**
 * What the Image API specifications require of an info.json, checked key by key: the
 * required properties with their types and fixed values, and the optional ones this
 * server sends with theirs (2.1 §5, 3.0 §5).
 */

function assertSizeList(list: unknown, what: string): void {
  assert.ok(Array.isArray(list) && list.length > 0, `${what} is a non-empty list`);
  for (const s of list as Array<Record<string, unknown>>) {
    assert.ok(Number.isInteger(s.width) && (s.width as number) > 0, `${what}: width is a positive integer`);
    assert.ok(Number.isInteger(s.height) && (s.height as number) > 0, `${what}: height is a positive integer`);
  }
}

function assertTiles(tiles: unknown): void {
  assert.ok(Array.isArray(tiles) && tiles.length > 0, 'tiles is a non-empty list');
  for (const t of tiles as Array<Record<string, unknown>>) {
    assert.ok(Number.isInteger(t.width) && (t.width as number) > 0, 'tile width is a positive integer');
    assert.ok(Array.isArray(t.scaleFactors) && t.scaleFactors.length > 0, 'tile scaleFactors is a non-empty list');
    assert.ok((t.scaleFactors as unknown[]).every((f) => Number.isInteger(f) && (f as number) >= 1), 'scale factors are integers ≥ 1');
  }
}

export function assertInfoJson3(info: Record<string, unknown>, id: string): void {
  assert.equal(info['@context'], 'http://iiif.io/api/image/3/context.json');
  assert.equal(info.id, id);
  assert.equal(info.type, 'ImageService3');
  assert.equal(info.protocol, 'http://iiif.io/api/image');
  assert.ok(['level0', 'level1', 'level2'].includes(info.profile as string), 'profile is level0, level1 or level2');
  assert.ok(Number.isInteger(info.width) && (info.width as number) > 0);
  assert.ok(Number.isInteger(info.height) && (info.height as number) > 0);
  assert.equal(info['@id'], undefined, 'v3 uses id, not @id');
  for (const key of ['maxWidth', 'maxHeight', 'maxArea'] as const) assert.ok(Number.isInteger(info[key]), `${key} is an integer`);
  assertSizeList(info.sizes, 'sizes');
  assertTiles(info.tiles);
  for (const key of ['extraFormats', 'extraQualities', 'extraFeatures', 'preferredFormats'] as const) {
    assert.ok(Array.isArray(info[key]) && (info[key] as unknown[]).every((v) => typeof v === 'string'), `${key} is a list of strings`);
  }
}

export function assertInfoJson2(info: Record<string, unknown>, id: string): void {
  assert.equal(info['@context'], 'http://iiif.io/api/image/2/context.json');
  assert.equal(info['@id'], id);
  assert.equal(info.protocol, 'http://iiif.io/api/image');
  assert.ok(Number.isInteger(info.width) && (info.width as number) > 0);
  assert.ok(Number.isInteger(info.height) && (info.height as number) > 0);
  assert.equal(info.id, undefined, 'v2 uses @id, not id');
  assert.ok(Array.isArray(info.profile), 'profile is a list');
  const [level, description] = info.profile as [unknown, Record<string, unknown>];
  assert.match(level as string, /^http:\/\/iiif\.io\/api\/image\/2\/level[012]\.json$/);
  assert.ok(description && typeof description === 'object', 'the profile has a description object');
  for (const key of ['formats', 'qualities', 'supports'] as const) {
    assert.ok(Array.isArray(description[key]) && (description[key] as unknown[]).every((v) => typeof v === 'string'), `profile ${key} is a list of strings`);
  }
  for (const key of ['maxWidth', 'maxHeight', 'maxArea'] as const) assert.ok(Number.isInteger(description[key]), `profile ${key} is an integer`);
  assertSizeList(info.sizes, 'sizes');
  assertTiles(info.tiles);
}
