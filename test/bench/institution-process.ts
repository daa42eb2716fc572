/**
 * Runs the loopback institution in its own process, so that a benchmark measures the
 * harvester and not the server sharing its event loop. Prints one JSON line with the
 * URLs, then serves until stdin closes.
 */
import { createInstitution } from '../support/institution/index.ts';
import { photographs } from '../support/harvest-harness.ts';

const count = Number(process.argv[2] ?? 200);
const folders = ['fsa-owi', 'documerica', 'met', 'oldpics'];
const images = folders.flatMap((f) => photographs(f, 200)).slice(0, count);
const inst = await createInstitution({ images, imagesPerManifest: 10, mode: 'static', gzip: true });
process.stdout.write(JSON.stringify({
  rootCollectionUrl: inst.rootCollectionUrl,
  canvases: inst.manifests.reduce((n, m) => n + m.canvases.length, 0),
  modes: [...new Set(inst.manifests.map((m) => m.imageMode))],
}) + '\n');
process.stdin.resume();
process.stdin.on('end', async () => {
  await inst.close();
  process.exit(0);
});
