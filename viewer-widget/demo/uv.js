/**
 * The Universal Viewer demo (/demo/uv.html): Universal Viewer 4 from its npm package, and the
 * widget beside it, joined through UV's public events and `uv.set()` (UV has no plugin system
 * for panels). A hit opened in the results moves UV to its canvas (its manifest first, when it is
 * another one) and zooms to the region that matched, outlined; "Find images like this view"
 * searches with the part of the canvas in view; <reprise-similar> follows the canvas shown.
 * Everything shown is written for patrons; what went wrong goes to the console.
 *
 * Query parameters: `manifest` (default: the manifest the index holds most items of), `canvas`
 * (a canvas id of it), `xywh` (a region of that canvas to zoom to), `lang` (en, fr), `api`, and
 * `minScore` (the relevance cut-off: auto, none or a number; for specialists and tests).
 */
import { RepriseClient } from '../widget/reprise-widget.js';
import { pageLanguage, setLanguageLink, VIEWER_MESSAGES } from './page-header.js';

const STRINGS = {
  en: {
    title: 'Visual search beside Universal Viewer',
    pageTitle: 'Reprise · Universal Viewer',
    skip: 'Skip to the search',
    search: 'Search',
    viewer: 'Image viewer',
    searchView: 'Find images like this view',
    portal: 'Search the collection',
    mirador: 'In Mirador',
    nav: 'Page',
    notShown: 'This image cannot be shown in the viewer.',
  },
  fr: {
    title: 'Recherche visuelle dans Universal Viewer',
    pageTitle: 'Reprise · Universal Viewer',
    skip: 'Aller à la recherche',
    search: 'Recherche',
    viewer: 'Visionneuse',
    searchView: 'Trouver des images comme cette vue',
    portal: 'Rechercher dans la collection',
    mirador: 'Dans Mirador',
    nav: 'Page',
    notShown: 'Cette image ne peut pas être affichée dans la visionneuse.',
  },
};
/** Universal Viewer's own translations (it ships these two among others). */
const UV_LOCALE = { en: 'en-GB', fr: 'fr-FR' };

const params = new URLSearchParams(location.search);
const api = params.get('api') ?? new URL('../api', location.href).href;
const lang = pageLanguage();
const s = { ...VIEWER_MESSAGES[lang], ...STRINGS[lang] };
const client = new RepriseClient(api);

const $ = (selector) => document.querySelector(selector);
const search = $('reprise-search');
const similar = $('reprise-similar');
const viewButton = $('#search-view');
const message = $('#message');

function applyLanguage() {
  document.documentElement.lang = lang;
  document.title = s.pageTitle;
  $('#title').textContent = s.title;
  $('#skip').textContent = s.skip;
  $('#search-heading').textContent = s.search;
  $('#viewer-title').textContent = s.viewer;
  viewButton.textContent = s.searchView;
  $('#page-nav').setAttribute('aria-label', s.nav);
  const suffix = lang === 'en' ? '' : `?lang=${lang}`;
  $('#portal-link').textContent = s.portal;
  $('#portal-link').href = `./${suffix}`;
  $('#mirador-link').textContent = s.mirador;
  $('#mirador-link').href = `./mirador.html${suffix}`;
  setLanguageLink($('#lang-link'), lang);
  search.lang = lang;
  similar.lang = lang;
}

const say = (text) => (message.textContent = text);

/** "x,y,w,h" of a hit's region, rounded; undefined for a whole-canvas hit. */
const xywhOf = (region) => (region ? [region.x, region.y, region.w, region.h].map(Math.round).join(',') : undefined);

/** An annotation UV draws (its own highlight, as for Content Search hits): the region of a hit. */
const outline = (canvas, xywh) => ({
  '@context': 'http://iiif.io/api/presentation/2/context.json',
  '@type': 'sc:AnnotationList',
  resources: [{ '@id': `${canvas}#reprise-region`, '@type': 'oa:Annotation', motivation: 'oa:describing', resource: { '@type': 'cnt:ContentAsText', chars: '' }, on: `${canvas}#xywh=${xywh}` }],
});

let uv;
let manifest;
/** What UV shows: the canvas, and the part of it in view. */
let view;
/** A region to zoom to once UV has loaded a manifest (UV clears its target when it reloads). */
let pendingTarget;
/** The region to outline once its canvas is open: UV draws annotations of the images open when they are given. */
let pendingOutline;
/** Whether the reader has used the page yet: until then, UV opening an image must not take the keyboard. */
let interacted = false;

/** Moves UV to a canvas (loading its manifest first when it is another), zoomed to `xywh` and outlined when given. */
function show({ manifestUrl, canvas, canvasIndex, xywh }) {
  const target = xywh ? { target: `${canvas}#xywh=${xywh}` } : { target: undefined, annotations: undefined };
  pendingOutline = xywh ? { canvas, annotations: outline(canvas, xywh) } : undefined;
  if (manifestUrl !== manifest) {
    manifest = manifestUrl;
    pendingTarget = xywh ? target : undefined;
    uv.set({ iiifManifestId: manifest, canvasIndex, xywh: undefined, ...target });
  } else {
    // The same manifest: UV goes to the target's canvas and fits the target (else the canvas, whole).
    uv.set({ canvasIndex, xywh: undefined, ...target });
  }
  similar.canvas = canvas;
  similar.manifest = manifest;
}

function startViewer(first) {
  manifest = first.manifest;
  const options = { iiifManifestId: manifest, canvasIndex: first.canvasIndex ?? 0, embedded: true, locales: [{ name: UV_LOCALE[lang] }] };
  if (first.canvas && first.xywh) {
    // UV's own parameter for the first view; the outline follows once the image is open.
    options.xywh = first.xywh;
    pendingOutline = { canvas: first.canvas, annotations: outline(first.canvas, first.xywh) };
  }
  uv = UV.init('uv', options);
  uv.on('load', () => {
    // A reload (another manifest) drops the target given with it: give it again now.
    if (pendingTarget) {
      const target = pendingTarget;
      pendingTarget = undefined;
      uv.set(target);
    }
  });
  uv.on('openseadragonExtension.open', () => {
    // UV puts the keyboard in its image when one opens: not before the reader has done anything.
    if (!interacted && document.getElementById('uv').contains(document.activeElement)) document.activeElement.blur();
    const current = uv.assignedContentHandler?.extension?.helper?.getCurrentCanvas?.()?.id;
    if (pendingOutline && pendingOutline.canvas === current) {
      const { annotations } = pendingOutline;
      pendingOutline = undefined;
      uv.set({ annotations });
    }
  });
  uv.on('canvasIndexChange', (index) => {
    const canvas = uv.assignedContentHandler?.extension?.helper?.getCanvasByIndex?.(index)?.id;
    if (canvas && canvas !== similar.canvas) Object.assign(similar, { itemId: undefined, canvas, manifest, xywh: undefined });
  });
  // The part of the canvas in view (it may reach past the canvas's edges: cut at 0).
  uv.on('targetChange', (target) => {
    const [canvas, fragment] = String(target).split('#xywh=');
    if (!fragment) return;
    let [x, y, w, h] = fragment.split(',').map(Number);
    if (x < 0) [w, x] = [w + x, 0];
    if (y < 0) [h, y] = [h + y, 0];
    view = w > 0 && h > 0 ? { canvas, xywh: [x, y, w, h].map(Math.round).join(',') } : undefined;
    viewButton.disabled = !view;
  });
  similar.canvas = first.canvas;
  similar.manifest = manifest;
  // Exposed for tests and for trying things in the console.
  window.uv = uv;
}

for (const type of ['keydown', 'pointerdown']) window.addEventListener(type, () => (interacted = true), { once: true, capture: true });

viewButton.addEventListener('click', () => {
  if (view) void search.searchRegion({ canvas: view.canvas, manifest, xywh: view.xywh });
});

// A hit opened in the results (or among the similar items and reprints) opens in UV.
document.addEventListener('reprise-select', (event) => {
  const { hit } = event.detail;
  if (!uv || hit.canvas.index === undefined) return; // position unknown: its link, if any, is followed
  event.preventDefault();
  show({ manifestUrl: hit.manifest.url || hit.manifest.id, canvas: hit.canvas.id, canvasIndex: hit.canvas.index, xywh: xywhOf(hit.region) });
  // On a phone the viewer is below the results.
  $('#uv').scrollIntoView({ block: 'nearest' });
});
document.addEventListener('reprise-error', (event) => {
  const { problem } = event.detail;
  console.warn(`reprise: ${problem.title}: ${problem.detail}`);
});

/** Where UV starts: the address's manifest and canvas, else the first item of the manifest the index holds most of. */
async function firstView() {
  const canvas = params.get('canvas') ?? undefined;
  const xywh = params.get('xywh') ?? undefined;
  let url = params.get('manifest');
  if (!url) {
    const facets = await client.facets(['manifest'], undefined, 1);
    const id = facets.manifest?.values[0]?.value;
    if (!id) return undefined;
    const page = await client.browse({ filters: { manifest: [id] }, limit: 1 });
    const hit = page.hits[0];
    if (!hit) return undefined;
    return { manifest: hit.manifest.url || hit.manifest.id, canvas: hit.canvas.id, canvasIndex: hit.canvas.index ?? 0 };
  }
  let canvasIndex = 0;
  if (canvas) {
    // The canvas's position, as the index knows it.
    const page = await client.browse({ filters: { manifest: [url] }, limit: 100 }).catch(() => undefined);
    canvasIndex = page?.hits.find((h) => h.canvas.id === canvas)?.canvas.index ?? 0;
  }
  return { manifest: url, canvas, canvasIndex, xywh };
}

async function start() {
  applyLanguage();
  search.api = api;
  similar.api = api;
  const cut = params.get('minScore');
  if (cut) search.minScore = cut;
  if (typeof UV === 'undefined') {
    say(s.failed);
    console.error('reprise demo: Universal Viewer is not installed where Reprise runs (it is a devDependency: npm install --save-dev universalviewer@4.4.0)');
    return;
  }
  try {
    // Without a model the server still lists, describes and finds reprints: the page offers what works.
    const stats = await client.stats().catch(() => undefined);
    if (stats && !stats.model.loaded) {
      search.keywordOnly = true;
      similar.sections = 'reprints';
      viewButton.hidden = true;
      console.info('reprise demo: the server has no model: text search looks in the descriptions (see the server log for how to add one)');
    }
    const first = await firstView();
    if (!first) {
      say(s.empty);
      console.warn('reprise demo: the index holds no manifest yet: harvest a collection first');
      return;
    }
    startViewer(first);
  } catch (err) {
    say(s.failed);
    console.error(`reprise demo: could not start the viewer: ${err.message}`);
  }
}

void start();
