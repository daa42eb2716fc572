/**
 * The OpenSeadragon demo page (/demo/): a harvested manifest in OpenSeadragon, with
 * `<reprise-search>` and `<reprise-similar>` beside it, joined by attachReprise.
 * Query parameters: `api` (default: the server's own /api), `manifest`, `lang` (en, fr).
 */
import { attachReprise, type RepriseSearch, type RepriseSimilar, type ViewerCanvas } from '/widget/reprise-widget.js';
import { labelText, manifestCanvases } from './manifest-canvases.ts';

const STRINGS = {
  en: {
    title: 'Reprise — visual search demo',
    manifest: 'Manifest',
    language: 'Language',
    canvases: 'Images of this manifest',
    viewer: 'Image viewer',
    noManifests: 'The index is empty: harvest a collection first (npx reprise harvest <url>).',
    loadFailed: (what: string) => `Could not load ${what}`,
    mirador: 'Mirador demo',
  },
  fr: {
    title: 'Reprise — démonstration de recherche visuelle',
    manifest: 'Manifeste',
    language: 'Langue',
    canvases: 'Images de ce manifeste',
    viewer: 'Visionneuse',
    noManifests: 'L’index est vide : moissonnez d’abord une collection (npx reprise harvest <url>).',
    loadFailed: (what: string) => `Impossible de charger ${what}`,
    mirador: 'Démonstration Mirador',
  },
};
type Lang = keyof typeof STRINGS;

const params = new URLSearchParams(location.search);
const api = params.get('api') ?? new URL('/api', location.href).href;
let lang: Lang = params.get('lang') === 'fr' ? 'fr' : 'en';

const $ = <T extends Element>(selector: string) => document.querySelector<T>(selector)!;
const search = $<RepriseSearch>('reprise-search');
const similar = $<RepriseSimilar>('reprise-similar');
const manifestSelect = $<HTMLSelectElement>('#manifest');
const langSelect = $<HTMLSelectElement>('#lang');
const strip = $<HTMLOListElement>('#canvases');
const message = $<HTMLElement>('#message');
search.api = api;
similar.api = api;

const OSD = (globalThis as unknown as { OpenSeadragon: typeof import('openseadragon') }).OpenSeadragon;
const viewer = OSD({
  element: $<HTMLElement>('#viewer'),
  prefixUrl: '/widget/openseadragon/images/',
  showNavigator: true,
  crossOriginPolicy: 'Anonymous',
  gestureSettingsMouse: { clickToZoom: false },
});
const reprise = attachReprise(viewer, { search, similar, OpenSeadragon: OSD, lang: () => lang, onOpen: (c) => markCurrent(c) });

function say(text: string) {
  message.textContent = text;
  message.hidden = !text;
}

function applyLanguage() {
  const s = STRINGS[lang];
  document.documentElement.lang = lang;
  document.title = s.title;
  $('#title').textContent = s.title;
  $('#manifest-label').textContent = s.manifest;
  $('#lang-label').textContent = s.language;
  $('#canvases-label').textContent = s.canvases;
  $('#mirador-link').textContent = s.mirador;
  $('#viewer').setAttribute('aria-label', s.viewer);
  langSelect.value = lang;
  search.lang = lang;
  similar.lang = lang;
  reprise.relabel();
}

/** The canvas strip and the manifest menu follow what the viewer shows (a hit may come from another manifest). */
function markCurrent(canvas: ViewerCanvas) {
  if (canvas.manifest && canvas.manifest !== manifestSelect.value && [...manifestSelect.options].some((o) => o.value === canvas.manifest)) {
    manifestSelect.value = canvas.manifest;
    void loadManifest(canvas.manifest, false).then(() => markCurrent(canvas));
    return;
  }
  for (const b of strip.querySelectorAll('button')) b.setAttribute('aria-current', String(b.dataset.canvas === canvas.canvas));
}

async function loadManifest(id: string, openFirst = true) {
  let canvases: ViewerCanvas[];
  try {
    const res = await fetch(id, { headers: { Accept: 'application/ld+json, application/json' } });
    if (!res.ok) throw new Error(`${res.status} ${res.statusText}`);
    canvases = manifestCanvases((await res.json()) as Record<string, unknown>, id, lang);
  } catch (err) {
    say(`${STRINGS[lang].loadFailed(id)}: ${(err as Error).message}`);
    return;
  }
  strip.replaceChildren(
    ...canvases.map((c, i) => {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.dataset.canvas = c.canvas;
      b.textContent = c.label ?? `${i + 1}`;
      b.addEventListener('click', () => void reprise.open(c).catch((err: Error) => say(err.message)));
      li.append(b);
      return li;
    }),
  );
  const first = canvases[0];
  if (first && openFirst) await reprise.open(first).catch((err: Error) => say(err.message));
}

async function start() {
  applyLanguage();
  let manifests: string[] = [];
  try {
    const res = await fetch(`${api}/facets?fields=manifest&size=1000`);
    if (!res.ok) throw new Error(`${res.status} ${res.statusText}`);
    const body = (await res.json()) as { facets: { manifest?: { values: Array<{ value: string }> } } };
    manifests = (body.facets.manifest?.values ?? []).map((v) => v.value).sort();
  } catch (err) {
    say(`${STRINGS[lang].loadFailed(`${api}/facets`)}: ${(err as Error).message}`);
    return;
  }
  if (!manifests.length) {
    say(STRINGS[lang].noManifests);
    return;
  }
  manifestSelect.replaceChildren(
    ...manifests.map((m) => {
      const o = document.createElement('option');
      o.value = m;
      o.textContent = m.replace(/^https?:\/\/[^/]+/, '');
      return o;
    }),
  );
  const wanted = params.get('manifest');
  manifestSelect.value = wanted && manifests.includes(wanted) ? wanted : manifests[0]!;
  await loadManifest(manifestSelect.value);
}

manifestSelect.addEventListener('change', () => void loadManifest(manifestSelect.value));
langSelect.addEventListener('change', () => {
  lang = langSelect.value === 'fr' ? 'fr' : 'en';
  applyLanguage();
});
document.addEventListener('reprise-error', (e) => {
  const { problem } = (e as CustomEvent<{ problem: { title: string; detail: string } }>).detail;
  // The elements show their own errors; the viewer's (an image that does not open) go in the message bar.
  if (!(e.target instanceof Element && e.target.localName.startsWith('reprise-'))) say(`${problem.title}: ${problem.detail}`);
  else console.warn(`reprise: ${problem.title}: ${problem.detail}`);
});
// Exposed for tests and for trying things in the console.
Object.assign(globalThis, { reprise, viewer, labelText });
void start();
