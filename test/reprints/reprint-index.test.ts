import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import sharp from 'sharp';
import { extractFeatures, type ImageFeatures } from '../../reprints/features/index.ts';
import { loadDefaultVocabulary, Vocabulary } from '../../reprints/features/vocabulary.ts';
import { trainVocabulary } from '../../reprints/features/train-vocabulary.ts';
import { ReprintService, UnknownItemError } from '../../reprints/index.ts';
import { ReprintIndex, type ReprintEntry } from '../../reprints/reprint-index/index.ts';
import { degrade, rng } from '../bench/reprints-degrade.ts';
import { bytesOf, featuresOf, requireLocalFeatures, tempDir } from './support.ts';

const PHOTOS = [
  ['fsa-owi', 'LC-USF33-003470.jpg'],
  ['fsa-owi', 'LC-USE6-D-000247.jpg'],
  ['documerica', ''],
  ['genthe-loc', 'kids.jpg'],
  ['genthe-loc', '01-children-walking.jpg'],
  ['skimage', 'brick.png'],
  ['skimage', 'grass.png'],
] as const;

describe('reprints: the reprint index and the service over it', function () {
  requireLocalFeatures(this);
  const dirs: string[] = [];
  const features = new Map<string, ImageFeatures>();
  let cropOfFirst: ImageFeatures;
  let halftoneOfFirst: ImageFeatures;

  const entry = (id: string, f = features.get(id)!): ReprintEntry => ({ id, item: { label: id, canvasId: `https://example.org/canvas/${id}`, manifestLabel: 'M' }, features: f });
  const open = (dir = tempDir()) => {
    dirs.push(dir);
    return ReprintIndex.open(dir, loadDefaultVocabulary());
  };

  before(async () => {
    for (const [folder, name] of PHOTOS) {
      const file = name || (await import('node:fs')).readdirSync(`${(await import('../support/fixtures.ts')).fixture('images', folder)}`).filter((f) => f.endsWith('.jpg')).sort()[0]!;
      features.set(`${folder}/${file}`, await featuresOf(folder, file));
    }
    const first = bytesOf('fsa-owi', 'LC-USF33-003470.jpg');
    cropOfFirst = await extractFeatures(await sharp(first).extract({ left: 100, top: 60, width: 380, height: 300 }).toBuffer());
    halftoneOfFirst = await extractFeatures((await degrade(first, 0.5, ['halftone', 'borders'], rng(5))).bytes);
  });
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('ranks the original first among candidates and verifies it with its canvas region', () => {
    const index = open();
    index.upsert([...features.keys()].map((id) => entry(id)));
    assert.equal(index.size, PHOTOS.length);
    const service = new ReprintService(index);
    const hits = service.search(cropOfFirst);
    assert.equal(hits.length, 1, JSON.stringify(hits.map((h) => [h.id, h.inliers])));
    assert.equal(hits[0]!.id, 'fsa-owi/LC-USF33-003470.jpg');
    assert.equal(hits[0]!.item.canvasId, 'https://example.org/canvas/fsa-owi/LC-USF33-003470.jpg');
    assert.ok(Math.abs(hits[0]!.region.x - 100) < 4 && Math.abs(hits[0]!.region.w - 380) < 6, JSON.stringify(hits[0]!.region));
    assert.ok(hits[0]!.confidence > 0.99);
    assert.equal(index.candidates(index.vocabulary.assign(cropOfFirst.descriptors), 1)[0]!.doc, index.image('fsa-owi/LC-USF33-003470.jpg')!.doc);
    index.close();
  });

  it('reports canvas coordinates when the canvas is larger than the image', () => {
    const index = open();
    const f = features.get('fsa-owi/LC-USF33-003470.jpg')!;
    index.upsert([{ id: 'big', item: { canvasWidth: f.frame.sourceWidth * 4, canvasHeight: f.frame.sourceHeight * 4 }, features: f }]);
    const [hit] = new ReprintService(index).search(cropOfFirst);
    assert.ok(Math.abs(hit!.region.x - 400) < 16 && Math.abs(hit!.region.w - 1520) < 24, JSON.stringify(hit!.region));
    assert.ok(Math.abs(hit!.transform.scale - 4) < 0.1);
    index.close();
  });

  it('keeps the index consistent on upsert and delete, across reopening', () => {
    const dir = tempDir();
    let index = open(dir);
    index.upsert([...features.keys()].map((id) => entry(id)));
    const id = 'fsa-owi/LC-USF33-003470.jpg';
    const firstDoc = index.image(id)!.doc;
    // Sent again (a crash replay, a changed image): replaced, not duplicated.
    index.upsert([entry(id)]);
    assert.equal(index.size, PHOTOS.length);
    assert.notEqual(index.image(id)!.doc, firstDoc);
    assert.equal(index.searchable, PHOTOS.length);
    assert.equal(new ReprintService(index).search(cropOfFirst)[0]!.id, id);
    index.delete([id, 'not-there']);
    assert.equal(index.size, PHOTOS.length - 1);
    assert.equal(index.features(firstDoc), undefined);
    assert.deepEqual(new ReprintService(index).search(cropOfFirst), []);
    const words = index.vocabulary.assign(cropOfFirst.descriptors);
    assert.ok(!index.candidates(words, 100).some((c) => index.imageByDoc(c.doc) === undefined), 'no deleted document among candidates');
    index.close();
    index = open(dir);
    assert.equal(index.searchable, PHOTOS.length - 1);
    assert.deepEqual(new ReprintService(index).search(cropOfFirst), []);
    assert.throws(() => new ReprintService(index).searchItem(id), UnknownItemError);
    index.close();
  });

  it('groups reprints across the collection incrementally, and forgets deleted items', () => {
    const index = open();
    const service = new ReprintService(index);
    index.upsert([...features.keys()].map((id) => entry(id)));
    assert.equal(service.scan(), PHOTOS.length - 0 - [...features.values()].filter((f) => f.empty).length);
    let groups = service.groups();
    assert.deepEqual(
      groups.map((g) => g.members.map((m) => m.id)),
      [['genthe-loc/01-children-walking.jpg', 'genthe-loc/kids.jpg']],
    );
    // A later harvest adds two reprints of the first photograph: only they are compared.
    index.upsert([entry('crop', cropOfFirst), entry('halftone', halftoneOfFirst)]);
    assert.equal(service.scan(), 2);
    assert.equal(service.scan(), 0);
    groups = service.groups();
    assert.equal(groups.length, 2);
    assert.deepEqual(groups[0]!.members.map((m) => m.id).sort(), ['crop', 'fsa-owi/LC-USF33-003470.jpg', 'halftone']);
    const original = groups[0]!.members.find((m) => m.id === 'fsa-owi/LC-USF33-003470.jpg')!;
    assert.equal(original.canvasId, 'https://example.org/canvas/fsa-owi/LC-USF33-003470.jpg');
    assert.ok(original.region.w > 100 && original.region.h > 100);
    assert.ok(groups[0]!.pairs.every((p) => p.inliers >= 10 && p.confidence > 0.7));
    // Textures never join a group.
    assert.ok(!groups.flatMap((g) => g.members).some((m) => m.id.startsWith('skimage/')));
    index.delete(['fsa-owi/LC-USF33-003470.jpg']);
    groups = service.groups();
    assert.ok(!groups.flatMap((g) => g.members).some((m) => m.id === 'fsa-owi/LC-USF33-003470.jpg'));
    index.close();
  });

  it('re-assigns words from the stored descriptors when the vocabulary changes', () => {
    const dir = tempDir();
    let index = open(dir);
    index.upsert([...features.keys()].map((id) => entry(id)));
    index.close();
    const small = trainVocabulary([...features.values()].map((f) => f.descriptors), { branches: 8, leaves: 8, maxDescriptors: 5000, iterations: 5, seed: 1 });
    const reread = Vocabulary.fromBytes(small.toBytes());
    assert.equal(reread.id, small.id);
    assert.equal(reread.size, 64);
    index = ReprintIndex.open(dir, reread);
    assert.equal(index.searchable, PHOTOS.length);
    assert.ok([...index.words(index.image('genthe-loc/kids.jpg')!.doc)].every((w) => w < 64));
    assert.equal(new ReprintService(index).search(cropOfFirst)[0]?.id, 'fsa-owi/LC-USF33-003470.jpg');
    index.close();
  });

  it('assigns the same words natively as in JavaScript', () => {
    const vocabulary = loadDefaultVocabulary();
    for (const f of features.values()) assert.deepEqual(vocabulary.assign(f.descriptors), vocabulary.assignInJavaScript(f.descriptors));
  });

  it('refuses a corrupt vocabulary file with a way out', () => {
    assert.throws(() => Vocabulary.fromBytes(new Uint8Array(40)), /not a Reprise vocabulary.*reprise reprints train/);
    const bytes = loadDefaultVocabulary().toBytes();
    assert.throws(() => Vocabulary.fromBytes(bytes.subarray(0, bytes.length - 7)), /truncated or corrupt/);
  });
});
