/**
 * The annotation pages (v3 `annotations`) and lists (v2 `otherContent`) that a manifest's canvases
 * only reference: fetched once each per manifest, through the harvester's HTTP client (its bounds,
 * timeouts and SSRF guard), at most harvest.regions.maxPagesPerManifest, and their annotated
 * regions added to the canvases that reference them.
 */
import type { HarvestConfig } from '../config/index.ts';
import type { HttpClient } from '../common/index.ts';
import type { HarvestEventListener } from './events.ts';
import { boundRegions, pageAnnotations, readAnnotatedRegions, type CanvasSizes } from './iiif/annotations.ts';
import type { CanvasRegion, ParsedManifest } from './iiif/types.ts';
import { Warnings } from './iiif/util.ts';

export interface AnnotationPageDeps {
  http: HttpClient;
  config: HarvestConfig;
  emit: HarvestEventListener;
  signal?: AbortSignal;
  /** Runs one document fetch within the discovery's bound on documents in flight. */
  slot: <T>(fetch: () => Promise<T>) => Promise<T>;
}

/**
 * Adds the regions of the referenced pages to the canvases of `doc`, and holds every canvas that
 * references a page to harvest.regions.maxPerCanvas, its own regions and its pages' together
 * (the parser leaves that bound to this step). Returns the canvases whose pages could not be read (network, HTTP or JSON
 * errors): their regions are not known this time, and the caller keeps those indexed before. A
 * document that is read but is no annotation page gives no regions, with a warning.
 */
export async function addReferencedRegions(doc: ParsedManifest, manifestUrl: string, deps: AnnotationPageDeps): Promise<Set<string>> {
  const failed = new Set<string>();
  const pages = doc.annotationPages ?? [];
  const { regions: settings } = deps.config;
  if (!pages.length) return failed;
  if (pages.length > settings.maxPagesPerManifest) {
    deps.emit({
      type: 'warning',
      url: manifestUrl,
      message: `the canvases reference ${pages.length} annotation pages; the first ${settings.maxPagesPerManifest} are read (harvest.regions.maxPagesPerManifest)`,
    });
  }
  const sizes: CanvasSizes = new Map(doc.canvases.map((c) => [c.canvasId, { width: c.width, height: c.height }]));
  const found = new Map<string, CanvasRegion[]>();
  const reads = pages.slice(0, settings.maxPagesPerManifest).map(async (page) => {
    const warnings = new Warnings(5);
    try {
      const res = await deps.slot(() => deps.http.fetchJson(page.url, { signal: deps.signal }));
      if (res.status !== 'ok') throw new Error('answered 304 Not Modified to an unconditional request');
      const listed = pageAnnotations(JSON.parse(res.body.toString('utf8')));
      if ('problem' in listed) {
        warnings.add(`${listed.problem}; its canvases get no regions from it`);
        return;
      }
      // A page may carry annotations of other canvases too: only those that reference it take from it.
      const own = new Map(page.canvases.flatMap((id) => (sizes.has(id) ? [[id, sizes.get(id)!] as const] : [])));
      for (const { canvasId, region } of readAnnotatedRegions(listed.annotations, own, 'annotation page', warnings)) {
        found.set(canvasId, [...(found.get(canvasId) ?? []), region]);
      }
    } catch (err) {
      if (deps.signal?.aborted) throw err;
      page.canvases.forEach((id) => failed.add(id));
      warnings.add(`could not read this annotation page (${(err as Error).message}); its canvases keep the regions indexed before`);
    } finally {
      for (const message of warnings.done()) deps.emit({ type: 'warning', url: page.url, message });
    }
  });
  const outcomes = await Promise.allSettled(reads);
  const stopped = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (stopped) throw stopped.reason;

  const referencing = new Set(pages.flatMap((p) => p.canvases));
  const warnings = new Warnings(50);
  for (const canvas of doc.canvases) {
    if (!referencing.has(canvas.canvasId)) continue;
    const all = [...(canvas.regions ?? []), ...(found.get(canvas.canvasId) ?? [])];
    const bounded = boundRegions(all, { width: canvas.width, height: canvas.height }, settings, `canvas ${canvas.index}`, warnings);
    if (bounded.length) canvas.regions = bounded;
    else delete canvas.regions;
  }
  for (const message of warnings.done()) deps.emit({ type: 'warning', url: manifestUrl, message });
  return failed;
}
