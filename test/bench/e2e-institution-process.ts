/**
 * The end-to-end benchmark's IIIF institution, in its own process: the shared photographs
 * (FSA/OWI, DOCUMERICA, the Met, old pictures) on canvases of ten, as many manifests as it
 * takes to reach the canvas count asked for. Past the last photograph the canvases repeat
 * photographs under new canvas ids and image URLs, the way the harvest benchmark repeats them.
 * Prints one JSON line with the URLs, then serves until stdin closes.
 */
import { createInstitution } from '../support/institution/index.ts';
import { photographs } from '../support/harvest-harness.ts';

const count = Number(process.argv[2] ?? 1000);
if (!Number.isInteger(count) || count < 1) throw new RangeError(`canvas count must be a positive integer, got "${process.argv[2]}"`);
const PER_MANIFEST = 10;
const images = ['fsa-owi', 'documerica', 'met', 'oldpics'].flatMap((f) => photographs(f, 1000));
const inst = await createInstitution({ images, imagesPerManifest: PER_MANIFEST, manifestCount: Math.ceil(count / PER_MANIFEST), mode: 'static', gzip: true });
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
