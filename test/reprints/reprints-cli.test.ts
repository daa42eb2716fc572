import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { DEFAULT_MIN_INLIERS, extractFeatures } from '../../reprints/features/index.ts';
import { DEFAULT_TRAIN } from '../../reprints/features/train-vocabulary.ts';
import { HELP_DEFAULTS } from '../../cli/commands/reprints.ts';
import { DEFAULT_SCAN_SHORTLIST, DEFAULT_SHORTLIST, openReprintIndex } from '../../reprints/index.ts';
import { bytesOf, requireLocalFeatures, tempDir } from './support.ts';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/reprise.js');
const run = promisify(execFile);

async function reprise(args: string[], dataDir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: { ...process.env, REPRISE_DATA_DIR: dataDir }, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('reprise reprints (command line)', function () {
  requireLocalFeatures(this);
  this.timeout(120_000);
  let dataDir: string;
  let cropFile: string;

  before(async () => {
    dataDir = tempDir('reprise-reprints-cli-');
    const index = openReprintIndex(dataDir);
    const entries = [
      ['kids', 'genthe-loc', 'kids.jpg'],
      ['walking', 'genthe-loc', '01-children-walking.jpg'],
      ['farm', 'fsa-owi', 'LC-USF33-003470.jpg'],
      ['other', 'fsa-owi', 'LC-USE6-D-000247.jpg'],
    ] as const;
    for (const [id, folder, name] of entries) {
      index.upsert([{ id, item: { label: `${name}, "quoted", label`, canvasId: `https://example.org/c/${id}`, manifestLabel: 'Genthe, Arnold' }, features: await extractFeatures(bytesOf(folder, name)) }]);
    }
    index.close();
    cropFile = path.join(dataDir, 'crop.jpg');
    writeFileSync(cropFile, await sharp(bytesOf('fsa-owi', 'LC-USF33-003470.jpg')).extract({ left: 50, top: 40, width: 330, height: 260 }).jpeg().toBuffer());
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('finds reprints of an image file, as JSON with canvas regions', async () => {
    const { code, stdout, stderr } = await reprise(['reprints', cropFile, '--json'], dataDir);
    assert.equal(code, 0, stderr);
    const out = JSON.parse(stdout) as { hits: Array<{ id: string; inliers: number; region: { x: number; w: number }; item: { canvasId: string } }> };
    assert.deepEqual(out.hits.map((h) => h.id), ['farm']);
    assert.equal(out.hits[0]!.item.canvasId, 'https://example.org/c/farm');
    assert.ok(Math.abs(out.hits[0]!.region.x - 50) < 4 && Math.abs(out.hits[0]!.region.w - 330) < 6, JSON.stringify(out.hits[0]!.region));
  });

  it('finds reprints of an indexed item, as text and as CSV', async () => {
    const text = await reprise(['reprints', 'kids'], dataDir);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^1\. 01-children-walking\.jpg.*confidence 1\.00, \d+ inliers\n\s+https:\/\/example\.org\/c\/walking#xywh=\d+,\d+,\d+,\d+/);
    const csv = await reprise(['reprints', 'kids', '--csv'], dataDir);
    const [header, row, ...rest] = csv.stdout.trim().split('\n');
    assert.equal(header, 'rank,id,canvas_id,manifest_id,manifest_label,label,confidence,inliers,xywh,query_xywh,scale,rotation');
    assert.match(row!, /^1,walking,https:\/\/example\.org\/c\/walking,,"Genthe, Arnold","01-children-walking\.jpg, ""quoted"", label",1\.000,\d+,"\d+,\d+,\d+,\d+"/);
    assert.deepEqual(rest, []);
  });

  it('lists the groups of reprints across the collection (--all), incrementally', async () => {
    const first = await reprise(['reprints', '--all', '--json'], dataDir);
    assert.equal(first.code, 0, first.stderr);
    const out = JSON.parse(first.stdout) as { images: number; scanned: number; groups: Array<{ members: Array<{ id: string; canvasId: string; region: object }> }> };
    assert.equal(out.images, 4);
    assert.equal(out.scanned, 4);
    assert.deepEqual(out.groups.map((g) => g.members.map((m) => m.id)), [['kids', 'walking']]);
    const again = JSON.parse((await reprise(['reprints', '--all', '--json'], dataDir)).stdout) as typeof out;
    assert.equal(again.scanned, 0);
    assert.deepEqual(again.groups, out.groups);
    const csv = (await reprise(['reprints', '--all', '--csv'], dataDir)).stdout.trim().split('\n');
    assert.equal(csv[0], 'group,size,id,canvas_id,manifest_id,manifest_label,label,collections,xywh,inliers,confidence');
    assert.equal(csv.length, 3);
    assert.match(csv[1]!, /^1,2,kids,https:\/\/example\.org\/c\/kids,/);
    // Each member's strongest pair: the inliers its region comes from, and their confidence.
    const [inliers, confidence] = csv[1]!.split(',').slice(-2).map(Number);
    assert.ok(inliers! >= 30 && confidence! > 0.99, csv[1]);
  });

  it('retrains the vocabulary on the collection, and still finds reprints with it', async () => {
    const trained = await reprise(['reprints', 'train', '--branches', '8'], dataDir);
    assert.equal(trained.code, 0, trained.stderr);
    assert.match(trained.stdout, /trained 64 words on 4 images/);
    assert.ok(existsSync(path.join(dataDir, 'reprints', 'vocabulary.rpvoc')));
    const after = JSON.parse((await reprise(['reprints', cropFile, '--json'], dataDir)).stdout) as { hits: Array<{ id: string }> };
    assert.deepEqual(after.hits.map((h) => h.id), ['farm']);
    rmSync(path.join(dataDir, 'reprints', 'vocabulary.rpvoc'));
  });

  it('looks in a region of an image file only (--region), reporting the query region in the whole image', async () => {
    // Two photographs side by side on one sheet: each region finds its own, and only its own.
    const farm = await sharp(bytesOf('fsa-owi', 'LC-USF33-003470.jpg')).resize(400).jpeg().toBuffer();
    const other = await sharp(bytesOf('fsa-owi', 'LC-USE6-D-000247.jpg')).resize(400).jpeg().toBuffer();
    const [hf, ho] = await Promise.all([farm, other].map(async (b) => (await sharp(b).metadata()).height!));
    const sheet = path.join(dataDir, 'sheet.jpg');
    await sharp({ create: { width: 900, height: Math.max(hf!, ho!) + 60, channels: 3, background: '#ffffff' } })
      .composite([{ input: farm, left: 20, top: 30 }, { input: other, left: 480, top: 30 }])
      .jpeg({ quality: 90 })
      .toFile(sheet);
    type Out = { region: { x: number; y: number; w: number; h: number }; hits: Array<{ id: string; queryRegion: { x: number; y: number; w: number; h: number } }> };
    for (const [id, x, h] of [['farm', 20, hf!], ['other', 480, ho!]] as const) {
      const res = await reprise(['reprints', sheet, '--region', `${x},30,400,${h}`, '--json'], dataDir);
      assert.equal(res.code, 0, res.stderr);
      const out = JSON.parse(res.stdout) as Out;
      assert.deepEqual(out.region, { x, y: 30, w: 400, h });
      assert.deepEqual(out.hits.map((hit) => hit.id), [id]);
      const q = out.hits[0]!.queryRegion;
      assert.ok(q.x >= x - 2 && q.x + q.w <= x + 402 && q.y >= 28, `${id}: ${JSON.stringify(q)}`);
    }
    assert.match((await reprise(['reprints', sheet, '--region', '800,0,400,400'], dataDir)).stderr, /region 800,0,400,400 is not inside the image \(900×\d+ pixels\)/);
    assert.match((await reprise(['reprints', sheet, '--region', '1,2,3'], dataDir)).stderr, /--region must be x,y,w,h in whole pixels/);
    assert.match((await reprise(['reprints', 'kids', '--region', '0,0,10,10'], dataDir)).stderr, /--region needs an image file or URL: "kids" is an indexed item/);
  });

  it('documents the defaults the code uses', () => {
    assert.deepEqual(HELP_DEFAULTS, { minInliers: DEFAULT_MIN_INLIERS, shortlist: DEFAULT_SHORTLIST, scanShortlist: DEFAULT_SCAN_SHORTLIST, branches: DEFAULT_TRAIN.branches });
  });

  it('says what is wrong with a bad target or option', async () => {
    const missing = await reprise(['reprints', 'no-such-thing'], dataDir);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /"no-such-thing" is neither an item in the reprint index \(4 items/);
    const blank = path.join(dataDir, 'blank.png');
    writeFileSync(blank, await sharp({ create: { width: 500, height: 500, channels: 3, background: '#ffffff' } }).png().toBuffer());
    assert.match((await reprise(['reprints', blank], dataDir)).stderr, /nothing to match \(blank/);
    assert.match((await reprise(['reprints', 'kids', '--limit', '0'], dataDir)).stderr, /--limit must be a whole number from 1 to 1000/);
    assert.match((await reprise(['reprints'], dataDir)).stderr, /give an item id, an image file or an image URL, or --all/);
  });

  it('pointed at a folder where nothing was harvested, says so and exits 1 instead of "no reprints among 0 images"', async () => {
    const empty = tempDir('reprise-reprints-noindex-');
    try {
      for (const args of [['reprints', cropFile], ['reprints', 'kids'], ['reprints', '--all'], ['reprints', 'train']]) {
        const res = await reprise(args, empty);
        assert.equal(res.code, 1, args.join(' '));
        assert.match(res.stderr, /no reprint index at .*reprints: harvest first/, args.join(' '));
        assert.doesNotMatch(res.stdout, /no reprints/);
      }
      assert.equal(existsSync(path.join(empty, 'reprints')), false, 'no empty index is created');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
