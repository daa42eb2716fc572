import assert from 'node:assert/strict';
import sharp from 'sharp';
import { DEFAULT_MIN_INLIERS, extractFeatures, INSTALL_HINT, LocalFeaturesUnavailableError, verifyPair, confidence, keypointCount, type ImageFeatures } from '../../reprints/features/index.ts';
import { contentBounds } from '../../reprints/features/prepare.ts';
import { localFeatures } from '../../reprints/features/native.ts';
import { degrade, rng } from '../bench/reprints-degrade.ts';
import { bytesOf, featuresOf, iou, requireLocalFeatures } from './support.ts';

const PHOTO = ['fsa-owi', 'LC-USF33-003470.jpg'] as const;
const OTHER = ['fsa-owi', 'LC-USE6-D-000247.jpg'] as const;

describe('reprints: local features and verification on real photographs', function () {
  requireLocalFeatures(this);
  let photo: ImageFeatures;
  let size: { width: number; height: number };

  before(async () => {
    photo = await featuresOf(...PHOTO);
    const meta = await sharp(bytesOf(...PHOTO)).metadata();
    size = { width: meta.width!, height: meta.height! };
  });

  it('extracts a bounded number of RootSIFT keypoints of size ≥ 6 px at 640 px', () => {
    const n = keypointCount(photo);
    assert.ok(n >= 100 && n <= 200, `${n} keypoints`);
    assert.equal(photo.keypoints.length, n * 4);
    for (let i = 0; i < n; i++) assert.ok(photo.keypoints[i * 4 + 2]! >= 6);
    assert.equal(Math.max(photo.frame.width, photo.frame.height), 640);
    // RootSIFT: every descriptor has unit L2 norm before the ×512 quantisation.
    let sq = 0;
    for (let d = 0; d < 128; d++) sq += (photo.descriptors[d]! / 512) ** 2;
    assert.ok(Math.abs(Math.sqrt(sq) - 1) < 0.02, `norm ${Math.sqrt(sq)}`);
  });

  it('finds a 45 % crop and says where it is in the original', async () => {
    const crop = { left: Math.round(size.width * 0.3), top: Math.round(size.height * 0.2), width: Math.round(size.width * 0.6), height: Math.round(size.height * 0.75) };
    const query = await extractFeatures(await sharp(bytesOf(...PHOTO)).extract(crop).jpeg({ quality: 60 }).toBuffer());
    const match = verifyPair(query, photo)!;
    assert.ok(match.inliers >= 3 * DEFAULT_MIN_INLIERS, `${match.inliers} inliers`);
    assert.ok(iou(match.region, { x: crop.left, y: crop.top, w: crop.width, h: crop.height }) > 0.9, JSON.stringify(match.region));
    assert.ok(iou(match.queryRegion, { x: 0, y: 0, w: crop.width, h: crop.height }) > 0.9, JSON.stringify(match.queryRegion));
    assert.ok(Math.abs(match.transform.scale - 1) < 0.02 && Math.abs(match.transform.rotation) < 0.5);
    assert.ok(Math.abs(match.transform.tx - crop.left) < 3 && Math.abs(match.transform.ty - crop.top) < 3);
  });

  it('finds a photograph printed inside a larger page, and its place on the page', async () => {
    const printed = await sharp(bytesOf(...PHOTO)).resize(420).greyscale().toBuffer();
    const meta = await sharp(printed).metadata();
    const page = await sharp({ create: { width: 900, height: 1300, channels: 3, background: '#f3efe4' } })
      .composite([{ input: printed, left: 260, top: 540 }])
      .jpeg({ quality: 75 })
      .toBuffer();
    const match = verifyPair(await extractFeatures(page), photo)!;
    assert.ok(match.inliers >= DEFAULT_MIN_INLIERS, `${match.inliers} inliers`);
    assert.ok(iou(match.queryRegion, { x: 260, y: 540, w: meta.width!, h: meta.height! }) > 0.85, JSON.stringify(match.queryRegion));
    assert.ok(iou(match.region, { x: 0, y: 0, ...{ w: size.width, h: size.height } }) > 0.9, JSON.stringify(match.region));
  });

  it('finds a halftone reprint and a rotated, re-toned scan with the rotation measured', async () => {
    const halftone = await degrade(bytesOf(...PHOTO), 0.9, ['halftone', 'greyscale'], rng(3));
    const ht = verifyPair(await extractFeatures(halftone.bytes), photo)!;
    assert.ok(ht && ht.inliers >= DEFAULT_MIN_INLIERS, `halftone: ${ht?.inliers} inliers`);
    const rotated = await sharp(bytesOf(...PHOTO)).rotate(7, { background: '#ffffff' }).gamma(2.2).blur(1.2).jpeg({ quality: 25 }).toBuffer();
    const rot = verifyPair(await extractFeatures(rotated), photo)!;
    assert.ok(rot.inliers >= DEFAULT_MIN_INLIERS, `rotation: ${rot.inliers} inliers`);
    // sharp rotates clockwise on screen; the transform maps query → original, so it undoes that.
    assert.ok(Math.abs(Math.abs(rot.transform.rotation) - 7) < 0.5, `rotation ${rot.transform.rotation}`);
  });

  it('matches the real Genthe reprint pairs (another scan and crop; a tight crop)', async () => {
    const kids = verifyPair(await featuresOf('genthe-loc', 'kids.jpg'), await featuresOf('genthe-loc', '01-children-walking.jpg'))!;
    assert.ok(kids.inliers >= 50, `${kids.inliers}`);
    const fish = verifyPair(await featuresOf('genthe-loc', 'fish-market-crop.jpg'), await featuresOf('genthe-loc', '01-fishmonger.jpg'))!;
    assert.ok(fish.inliers >= 2 * DEFAULT_MIN_INLIERS, `${fish.inliers}`);
    assert.ok(confidence(fish.inliers) > 0.99 && confidence(DEFAULT_MIN_INLIERS - 3) < 0.1);
  });

  it('reports no reprint between different photographs, or for textures', async () => {
    const other = await featuresOf(...OTHER);
    assert.ok((verifyPair(other, photo)?.inliers ?? 0) < DEFAULT_MIN_INLIERS);
    for (const name of ['brick.png', 'grass.png', 'gravel.png']) {
      const texture = await featuresOf('skimage', name);
      for (const target of [photo, other]) {
        assert.ok((verifyPair(texture, target)?.inliers ?? 0) < DEFAULT_MIN_INLIERS, name);
        assert.ok((verifyPair(target, texture)?.inliers ?? 0) < DEFAULT_MIN_INLIERS, name);
      }
    }
  });

  it('gives blank pages, tiny images and featureless images no features, with the reason', async () => {
    const blank = await sharp({ create: { width: 800, height: 1100, channels: 3, background: '#f4f1ea' } }).jpeg().toBuffer();
    assert.match((await extractFeatures(blank)).empty ?? '', /blank/);
    const grain = await sharp({ create: { width: 800, height: 1100, channels: 3, background: '#f4f1ea', noise: { type: 'gaussian', mean: 0, sigma: 4 } } }).jpeg().toBuffer();
    const grainy = await extractFeatures(grain);
    assert.ok(grainy.empty !== undefined || keypointCount(grainy) === 0 || (verifyPair(grainy, photo)?.inliers ?? 0) < DEFAULT_MIN_INLIERS);
    const tiny = await sharp(bytesOf(...PHOTO)).resize(40).jpeg().toBuffer();
    assert.match((await extractFeatures(tiny)).empty ?? '', /too small/);
    assert.equal(verifyPair(await extractFeatures(tiny), photo), undefined);
  });

  it('trims uniform padding and film borders before matching', async () => {
    const padded = await sharp(bytesOf(...PHOTO)).extend({ top: 120, bottom: 40, left: 200, right: 10, background: '#ffffff' }).jpeg().toBuffer();
    const features = await extractFeatures(padded);
    assert.ok(Math.abs(features.frame.offsetX - 200) <= 3 && Math.abs(features.frame.offsetY - 120) <= 3, JSON.stringify(features.frame));
    const match = verifyPair(features, photo)!;
    assert.ok(iou(match.queryRegion, { x: 200, y: 120, w: size.width, h: size.height }) > 0.95, JSON.stringify(match.queryRegion));
    const gray = new Uint8Array(100 * 80).fill(0);
    for (let y = 20; y < 70; y++) for (let x = 10; x < 90; x++) gray[y * 100 + x] = (x * 7 + y * 13) % 256;
    assert.deepEqual(contentBounds(gray, 100, 80), { left: 10, top: 20, right: 90, bottom: 70 });
  });

  it('rejects an unreadable image with a clear error', async () => {
    await assert.rejects(extractFeatures(Buffer.from('not an image')), /not a readable image/);
  });

  it("extracts off the main thread (the event loop keeps turning meanwhile) from a copy of the caller's pixels", async () => {
    // Large enough that SIFT takes well over 100 ms on the slowest machine.
    const side = 2000;
    const gray = new Uint8Array(await sharp(bytesOf(...PHOTO)).resize(side, side, { fit: 'fill' }).greyscale().raw().toBuffer());
    const options = { maxKeypoints: 200, minSize: 6, contrastThreshold: 0.01 };
    let longestStall = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      longestStall = Math.max(longestStall, now - last);
      last = now;
    }, 2);
    const started = performance.now();
    let one, again;
    try {
      one = await localFeatures().extract(gray, side, side, options);
      const extractMs = performance.now() - started;
      assert.ok(extractMs > 100, `extraction took ${extractMs.toFixed(0)} ms, too little to tell`);
      assert.ok(longestStall < extractMs / 3, `the event loop stood still for ${longestStall.toFixed(0)} ms of a ${extractMs.toFixed(0)} ms extraction`);
      // The caller's pixels are copied: changing them at once does not change what is analysed.
      const pending = localFeatures().extract(gray, side, side, options);
      gray.fill(0);
      again = await pending;
    } finally {
      clearInterval(ticker);
    }
    assert.ok(one.descriptors.length > 0);
    assert.deepEqual(again.keypoints, one.keypoints);
    assert.deepEqual(again.descriptors, one.descriptors);
    // Bad arguments are refused at the call, before anything is queued.
    assert.throws(() => localFeatures().extract(gray, side, side - 1, options), /width × height/);
  });

  it('says how to install OpenCV when the binding is missing', () => {
    const err = new LocalFeaturesUnavailableError('the binding was not built');
    assert.match(err.message, /apt-get install -y libopencv-dev/);
    assert.match(err.message, /npm run build:local-features/);
    assert.ok(err.message.endsWith(INSTALL_HINT));
  });
});
