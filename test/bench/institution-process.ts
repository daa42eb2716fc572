/**
 * Runs the loopback institution in its own process, so that a benchmark measures the
 * harvester and not the server sharing its event loop: the shared photographs (FSA/OWI,
 * DOCUMERICA, the Met, old pictures) on canvases of ten. `institution-process.ts N` serves the
 * first N photographs; `institution-process.ts N repeat` serves N canvases, repeating the
 * photographs under new canvas ids and image URLs once they run out (bench:e2e).
 * Prints one JSON line with the URLs, then serves until stdin closes.
 */
import { createInstitution } from '../support/institution/index.ts';
import { photographs } from '../support/harvest-harness.ts';

const count = Number(process.argv[2] ?? 200);
if (!Number.isInteger(count) || count < 1) throw new RangeError(`canvas count must be a positive integer, got "${process.argv[2]}"`);
const repeat = process.argv[3] === 'repeat';
const PER_MANIFEST = 10;
const folders = ['fsa-owi', 'documerica', 'met', 'oldpics'];
const images = repeat ? folders.flatMap((f) => photographs(f, 1000)) : folders.flatMap((f) => photographs(f, 200)).slice(0, count);
const inst = await createInstitution({
  images,
  imagesPerManifest: PER_MANIFEST,
  ...(repeat ? { manifestCount: Math.ceil(count / PER_MANIFEST) } : {}),
  mode: 'static',
  gzip: true,
});
process.stdout.write(JSON.stringify({
  rootCollectionUrl: inst.rootCollectionUrl,
  canvases: inst.manifests.reduce((n, m) => n + m.canvases.length, 0),
  photographs: images.length,
  modes: [...new Set(inst.manifests.map((m) => m.imageMode))],
}) + '\n');
process.stdin.resume();
process.stdin.on('end', async () => {
  await inst.close();
  process.exit(0);
});
