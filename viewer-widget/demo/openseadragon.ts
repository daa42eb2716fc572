/**
 * The demo portal (/demo/): a collection as a library would put it on its site. The search comes
 * first; below it, with nothing asked, the collection as a paged thumbnail grid (`browse`), which
 * a menu narrows to one manifest, listed by label. An opened image shows in OpenSeadragon with
 * `<reprise-similar>` beside it, joined by attachReprise. While a harvest runs the page says how
 * many images there are so far and refreshes the grid. The state (query, filters, page, opened
 * item, language) lives in the address: back and forward work and a link reproduces the view.
 * Everything shown is written for patrons: operator hints go to the server's log and admin API.
 * Query parameters: `api` (default: the server's own /api), `lang` (en, fr), `item` (an opened
 * item), and those of `<reprise-search url-state>`.
 */
import { attachReprise, RepriseClient, type AnyHit, type RepriseSearch, type RepriseSimilar, type Stats, type ViewerCanvas } from '/widget/reprise-widget.js';
import { labelText, manifestCanvases } from './manifest-canvases.ts';

const STRINGS = {
  en: {
    title: 'Search the collection',
    skip: 'Skip to the search',
    show: 'Show',
    everything: 'The whole collection',
    language: 'Language',
    viewer: 'Image viewer',
    closeViewer: 'Close the image',
    mirador: 'In Mirador',
    uv: 'In Universal Viewer',
    search: 'Search',
    image: 'Image',
    empty: 'There are no images in this collection yet. Please come back later.',
    harvesting: (n: number) => (n === 0 ? 'The collection is being prepared: images will appear here in a moment.' : `Images are being added to the collection: ${n} so far. The list updates by itself.`),
    loadFailed: 'This image could not be shown. Please try again later.',
    unavailable: 'The collection cannot be searched at the moment. Please try again later.',
  },
  fr: {
    title: 'Rechercher dans la collection',
    skip: 'Aller à la recherche',
    show: 'Afficher',
    everything: 'Toute la collection',
    language: 'Langue',
    viewer: 'Visionneuse',
    closeViewer: 'Fermer l’image',
    mirador: 'Dans Mirador',
    uv: 'Dans Universal Viewer',
    search: 'Recherche',
    image: 'Image',
    empty: 'Cette collection ne contient pas encore d’images. Revenez un peu plus tard.',
    harvesting: (n: number) =>
      n === 0 ? 'La collection est en préparation : les images apparaîtront ici dans un instant.' : `Des images sont en cours d’ajout : ${n} pour l’instant. La liste se met à jour d’elle-même.`,
    loadFailed: 'Cette image ne peut pas être affichée. Réessayez plus tard.',
    unavailable: 'La collection ne peut pas être consultée pour le moment. Réessayez plus tard.',
  },
};
type Lang = keyof typeof STRINGS;

/** Manifests looked up by label at most (one small request each). */
const MAX_MANIFESTS = 100;
/** How often the collection's size is asked while a harvest runs, and while it is empty. */
const POLL_HARVESTING_MS = 3000;
const POLL_EMPTY_MS = 15_000;

const params = new URLSearchParams(location.search);
const api = params.get('api') ?? new URL('/api', location.href).href;
// For specialists and tests: the relevance cut-off (min-score of <reprise-search>), "none" for every hit.
const minScore = params.get('minScore');
let lang: Lang = params.get('lang') === 'fr' ? 'fr' : 'en';
const client = new RepriseClient(api);

const $ = <T extends Element>(selector: string) => document.querySelector<T>(selector)!;
const search = $<RepriseSearch>('reprise-search');
const similar = $<RepriseSimilar>('reprise-similar');
const manifestSelect = $<HTMLSelectElement>('#manifest');
const langSelect = $<HTMLSelectElement>('#lang');
const message = $<HTMLElement>('#message');
const status = $<HTMLElement>('#collection-status');
const viewerSection = $<HTMLElement>('#viewer-section');
search.api = api;
if (minScore) search.minScore = minScore;
similar.api = api;
// "Copy link" copies a link to this page with the item opened.
search.shareHref = `${location.origin}${location.pathname}?item={id}`;

const OSD = (globalThis as unknown as { OpenSeadragon: typeof import('openseadragon') }).OpenSeadragon;
const viewer = OSD({
  element: $<HTMLElement>('#viewer'),
  prefixUrl: '/widget/openseadragon/images/',
  showNavigator: true,
  navigatorPosition: 'BOTTOM_RIGHT',
  crossOriginPolicy: 'Anonymous',
  gestureSettingsMouse: { clickToZoom: false },
});
const reprise = attachReprise(viewer, { search, similar, OpenSeadragon: OSD, lang: () => lang, onOpen: (c) => showViewer(c), onCompare: (c) => {
    showViewer(c);
    // The viewer may have been hidden while the pair opened: fit both images now that it has a size.
    requestAnimationFrame(() => reprise.fitComparison());
  },
});

function say(text: string) {
  message.textContent = text;
  message.hidden = !text;
}

function applyLanguage() {
  const s = STRINGS[lang];
  document.documentElement.lang = lang;
  document.title = s.title;
  $('#title').textContent = s.title;
  $('#skip').textContent = s.skip;
  $('#manifest-label').textContent = s.show;
  $('#lang-label').textContent = s.language;
  $('#mirador-link').textContent = s.mirador;
  $('#uv-link').textContent = s.uv;
  $('#search-heading').textContent = s.search;
  $('#close-viewer').textContent = s.closeViewer;
  $('#viewer').setAttribute('aria-label', s.viewer);
  $('#page-nav').setAttribute('aria-label', lang === 'fr' ? 'Page' : 'Page');
  const all = manifestSelect.querySelector('option[value=""]');
  if (all) all.textContent = s.everything;
  for (const link of ['#mirador-link', '#uv-link']) {
    const a = $<HTMLAnchorElement>(link);
    const url = new URL(a.href);
    url.searchParams.set('lang', lang);
    a.href = url.pathname + url.search;
  }
  langSelect.value = lang;
  search.lang = lang;
  similar.lang = lang;
  reprise.relabel();
  void renderStatus();
}

/** The page's own parameters in the address (the search element keeps its own beside them). */
function setParam(key: string, value: string | undefined, push: boolean) {
  const url = new URL(location.href);
  if (value === undefined) url.searchParams.delete(key);
  else url.searchParams.set(key, value);
  if (url.href === location.href) return;
  if (push) history.pushState({ reprise: true }, '', url);
  else history.replaceState(history.state, '', url);
}

let openedItem: string | undefined;

function showViewer(canvas: ViewerCanvas) {
  viewerSection.hidden = false;
  $('#main').classList.add('viewing');
  $('#viewer-title').textContent = canvas.label ?? STRINGS[lang].image;
}

function hideViewer() {
  viewerSection.hidden = true;
  $('#main').classList.remove('viewing');
  openedItem = undefined;
}

/** Opens an item by id (from a hit, or from the address). */
async function openItem(id: string, push: boolean, hit?: AnyHit) {
  openedItem = id;
  setParam('item', id, push);
  try {
    if (hit) await reprise.openHit(hit);
    else {
      const item = await client.item(id);
      await reprise.openHit(item);
    }
    viewerSection.scrollIntoView({ block: 'nearest' });
  } catch (err) {
    console.warn(`reprise demo: item ${id} could not be opened: ${(err as Error).message}`);
    say(STRINGS[lang].loadFailed);
  }
}

search.addEventListener('reprise-select', (e) => {
  const { hit } = (e as CustomEvent<{ hit: AnyHit }>).detail;
  // attachReprise opens it in the viewer; the address remembers it.
  openedItem = hit.id;
  setParam('item', hit.id, true);
});
similar.addEventListener('reprise-select', (e) => {
  const { hit } = (e as CustomEvent<{ hit: AnyHit }>).detail;
  openedItem = hit.id;
  setParam('item', hit.id, true);
});
$('#close-viewer').addEventListener('click', () => {
  hideViewer();
  setParam('item', undefined, true);
  search.focus();
});

window.addEventListener('popstate', () => {
  const next = new URLSearchParams(location.search);
  const nextLang: Lang = next.get('lang') === 'fr' ? 'fr' : 'en';
  if (nextLang !== lang) {
    lang = nextLang;
    applyLanguage();
  }
  const item = next.get('item') ?? undefined;
  if (item && item !== openedItem) void openItem(item, false);
  else if (!item && openedItem) hideViewer();
});

/** The manifests of the collection, by label: one item of each tells its label. */
async function listManifests() {
  let ids: string[];
  try {
    const facets = await client.facets(['manifest'], undefined, MAX_MANIFESTS);
    ids = (facets.manifest?.values ?? []).map((v) => v.value);
  } catch {
    return;
  }
  const labelled = await Promise.all(
    ids.map(async (id) => {
      try {
        const page = await client.browse({ filters: { manifest: [id] }, limit: 1 });
        return { id, label: page.hits[0]?.manifest.label ?? id.replace(/^https?:\/\/[^/]+/, '') };
      } catch {
        return { id, label: id };
      }
    }),
  );
  labelled.sort((a, b) => a.label.localeCompare(b.label, lang));
  const current = search.filters.manifest?.[0] ?? '';
  const all = document.createElement('option');
  all.value = '';
  all.textContent = STRINGS[lang].everything;
  manifestSelect.replaceChildren(
    all,
    ...labelled.map(({ id, label }) => {
      const o = document.createElement('option');
      o.value = id;
      o.textContent = label;
      return o;
    }),
  );
  manifestSelect.value = labelled.some((m) => m.id === current) ? current : '';
}

manifestSelect.addEventListener('change', () => {
  const { manifest: _, ...rest } = search.filters;
  search.filters = manifestSelect.value ? { ...rest, manifest: [manifestSelect.value] } : rest;
});

let stats: Stats | undefined;
let statsFailed = false;

async function renderStatus() {
  const s = STRINGS[lang];
  if (statsFailed) status.textContent = s.unavailable;
  else if (!stats) status.textContent = '';
  else if (stats.harvest?.running) status.textContent = s.harvesting(stats.items);
  else if (stats.items === 0) status.textContent = s.empty;
  else status.textContent = '';
  // An empty collection is said once, above: not again as "nothing found" by the search.
  search.toggleAttribute('data-empty-collection', !statsFailed && stats?.items === 0);
}

/** Keeps the page in step with the collection: counts while a harvest runs, the grid refreshed as images arrive. */
async function poll() {
  let next = POLL_EMPTY_MS;
  try {
    const before = stats;
    stats = await client.stats();
    statsFailed = false;
    // Without a model, text search looks in the descriptions and "similar" is not offered.
    search.keywordOnly = !stats.model.loaded;
    similar.hidden = !stats.model.loaded && stats.vectors === 0;
    if (!stats.model.loaded) console.info('reprise demo: the server has no model: text search looks in the descriptions (see the server log for how to add one)');
    if (before && before.items !== stats.items) {
      search.refresh();
      void listManifests();
    }
    if (stats.harvest?.running) next = POLL_HARVESTING_MS;
    else if (stats.items > 0) next = 0;
  } catch (err) {
    statsFailed = true;
    console.warn(`reprise demo: ${api}/stats: ${(err as Error).message}`);
  }
  await renderStatus();
  if (next) setTimeout(() => void poll(), next);
}

async function start() {
  applyLanguage();
  await poll();
  await listManifests();
  const item = params.get('item');
  if (item) await openItem(item, false);
}

langSelect.addEventListener('change', () => {
  lang = langSelect.value === 'fr' ? 'fr' : 'en';
  setParam('lang', lang === 'en' ? undefined : lang, true);
  applyLanguage();
});
document.addEventListener('reprise-error', (e) => {
  const { problem } = (e as CustomEvent<{ problem: { title: string; detail: string } }>).detail;
  // The elements show their own errors; the viewer's (an image that does not open) go in the message bar.
  if (!(e.target instanceof Element && e.target.localName.startsWith('reprise-'))) say(STRINGS[lang].loadFailed);
  console.warn(`reprise: ${problem.title}: ${problem.detail}`);
});
// Exposed for tests and for trying things in the console.
Object.assign(globalThis, { reprise, viewer, labelText, manifestCanvases });
void start();
