/**
 * Metadata facets in IIIF Content Search: `meta` (name:value of a configured metadata facet),
 * `dateFrom`/`dateTo` and `rights`, this service's own parameters with the search API's names and
 * semantics, narrow a manifest's hits; they shape the result set (its id and paging links keep
 * them) and are never listed as ignored (the specs' `date` still is); each hit's text names its
 * canvas's metadata facet values. The index holds every canvas of real manifests (shared
 * fixtures), filed as the harvester files them (itemFields), in the embedded store and in the
 * Meilisearch store on the in-repo fake. The National Gallery of Art's manifest dates each canvas
 * by its own metadata; a facet configured on that label (`dated`) varies within the manifest too.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import express, { type Express } from 'express';
import { facetsConfigSchema, loadConfig } from '../../config/index.ts';
import type { RepriseConfig } from '../../config/schema.ts';
import { itemFields } from '../../harvester/embedding-stage.ts';
import { parseIiifDocument } from '../../harvester/iiif/document.ts';
import { itemIdOf } from '../../harvester/util/hash.ts';
import { loadEncoders, type Encoders } from '../../models/index.ts';
import { contentSearchRouter, manifestKey } from '../../plugin/content-search/index.ts';
import { openApiDocument } from '../../plugin/openapi.ts';
import { createSchemas } from '../../plugin/schemas.ts';
import { problemJson } from '../../plugin/middleware/problem-json.ts';
import { EmbeddedStore } from '../../store/embedded/embedded-store.ts';
import { MeilisearchStore } from '../../store/meilisearch/index.ts';
import type { ItemFields, StoreItem, VectorStore } from '../../store/types.ts';
import { fixture, requireFixtures } from '../support/fixtures.ts';
import { startMeiliFake, type MeiliFake } from '../support/meili-fake/index.ts';
import { tinyModel } from '../support/tiny-model.ts';
import { request } from './supertest.ts';

const HOST = 'search.example.org';
/** Real manifests: the NGA's canvases carry their own dates; the others' metadata is the manifest's. */
const FILES = ['presentation-2/nga-manifest.json', 'presentation-2/bl-manifest.json', 'presentation-2/villanova-manifest.json', 'presentation-2/codex.json'];
const url = (file: string) => `https://fixtures.example/${file}`;
const NGA = url(FILES[0]!);
const BL = url(FILES[1]!);
const VILLANOVA = url(FILES[2]!);
const CODEX = url(FILES[3]!);

/** Random unit vectors: the text query matches every canvas (minScore −1), the filters alone decide. */
function randomUnit(dim: number, seed: number): Float32Array {
  let s = seed;
  const v = Float32Array.from({ length: dim }, () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

type Store = { name: string; open(dim: number, modelId: string): Promise<VectorStore>; close(): Promise<void> };

function embedded(): Store {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'reprise-cs-meta-'));
  return {
    name: 'embedded store',
    async open(dimensions, modelId) {
      const store = new EmbeddedStore({ dir, index: 'csmeta', quantization: 'f32', connectivity: 16, expansionAdd: 128, expansionSearch: 200 });
      await store.open({ modelId, dimensions });
      return store;
    },
    async close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function meilisearchFake(): Store {
  let fake: MeiliFake | undefined;
  return {
    name: 'Meilisearch store (in-repo fake)',
    async open(dimensions, modelId) {
      fake = await startMeiliFake({ masterKey: 'fake-master-key' });
      const store = new MeilisearchStore({ url: fake.url, apiKey: 'fake-master-key', timeoutMs: 10_000, batchSize: 500, taskTimeoutMs: 60_000 }, `csmeta_${process.pid}`);
      await store.open({ modelId, dimensions });
      return store;
    },
    async close() {
      await fake?.close();
    },
  };
}

for (const make of [embedded, meilisearchFake]) {
  const backend = make();
  describe(`IIIF Content Search: metadata facets, dates and rights as filters (${backend.name})`, function () {
    requireFixtures(this);
    this.timeout(120_000);
    let config: RepriseConfig;
    let encoders: Encoders;
    let store: VectorStore;
    let app: Express;
    /** Every canvas indexed, by manifest URL. */
    const items = new Map<string, ItemFields[]>();

    const get = (u: string) => request(app).get(u).set('Host', HOST);
    const service = (manifest: string, version: 1 | 2 = 2) => `/iiif/search/v${version}/${manifestKey(manifest)}`;
    const byCanvas = (manifest: string, target: string) => items.get(manifest)!.find((it) => it.canvasId === target.split('#')[0])!;
    const query = (params: Record<string, string | string[] | undefined>) =>
      Object.entries(params)
        .flatMap(([k, v]) => (v === undefined ? [] : [v].flat()).map((x) => `${k}=${encodeURIComponent(x)}`))
        .join('&');

    before(async () => {
      const dataDir = mkdtempSync(path.join(os.tmpdir(), 'reprise-cs-meta-data-'));
      // The usual metadata facets, and one on the "Date" label, which the NGA gives each canvas.
      const metadata = { ...facetsConfigSchema.parse({}).metadata, date: 'dated' };
      config = loadConfig({
        env: {},
        overrides: { dataDir, 'models.path': await tinyModel('huggingface'), 'models.threads': 1, 'facets.metadata': metadata, 'api.contentSearch.minScore': -1 },
      });
      encoders = await loadEncoders(config.models, dataDir);
      const dim = encoders.config.projectionDim;
      store = await backend.open(dim, encoders.config.modelId);
      const all: StoreItem[] = [];
      for (const file of FILES) {
        const doc = parseIiifDocument(JSON.parse(readFileSync(fixture('iiif', 'iiif-commons-parser', file), 'utf8')), { url: url(file) });
        if (doc.kind !== 'manifest') throw new Error(`${file} is not a manifest`);
        const fields = doc.canvases.slice(0, 30).map((canvas) =>
          itemFields(itemIdOf(url(file), canvas.canvasId), { ...canvas, manifestUrl: url(file), sourceUrl: url(file), collectionPath: ['Fixtures'], imageUrl: canvas.image.url }, config.facets),
        );
        items.set(url(file), fields);
        all.push(...fields.map((f, i) => ({ ...f, vector: randomUnit(dim, all.length + i + 1) })));
      }
      await store.upsert(all);
      app = express().use('/iiif/search', contentSearchRouter({ store, encoders, config })).use(problemJson());
    });
    after(async () => {
      await store?.close();
      await encoders?.close();
      await backend.close();
      rmSync(config?.dataDir ?? '/nonexistent', { recursive: true, force: true });
    });

    it('meta= keeps the canvases with that metadata facet value, with or without q, in both versions', async () => {
      const nga = items.get(NGA)!;
      const dated1888 = nga.filter((it) => it.facets?.dated?.includes('1888'));
      assert.ok(dated1888.length >= 2 && dated1888.length < nga.length, `the NGA dates ${dated1888.length} of ${nga.length} canvases 1888`);
      for (const q of [{}, { q: 'a garden' }]) {
        const two = await get(`${service(NGA)}?${query({ meta: 'dated:1888', ...q })}`);
        assert.equal(two.status, 200, two.text);
        assert.equal(two.body.partOf.total, dated1888.length);
        assert.deepEqual(two.body.items.map((a: { target: { id: string } }) => byCanvas(NGA, a.target.id).id).sort(), dated1888.map((it) => it.id).sort());
        const one = await get(`${service(NGA, 1)}?${query({ meta: 'dated:1888', ...q })}`);
        assert.equal(one.body.within.total, dated1888.length);
        for (const anno of one.body.resources) assert.ok(byCanvas(NGA, anno.on).facets!.dated!.includes('1888'), anno.on);
      }
      // Values of one name are ORed, as in the search API.
      const either = await get(`${service(NGA)}?${query({ meta: ['dated:1888', 'dated:1883'] })}`);
      assert.equal(either.body.partOf.total, nga.filter((it) => it.facets?.dated?.some((d) => d === '1888' || d === '1883')).length);
      assert.ok(either.body.partOf.total > dated1888.length);
    });

    it('meta= with manifest-level metadata: all of a manifest or none of it; names are ANDed', async () => {
      const bl = items.get(BL)!;
      assert.ok(bl.every((it) => it.facets?.language?.includes('English') && it.facets?.place?.includes('London')), 'the BL manifest says English, London');
      assert.equal((await get(`${service(BL)}?${query({ meta: 'language:English' })}`)).body.partOf.total, bl.length);
      assert.equal((await get(`${service(BL)}?${query({ meta: ['language:English', 'place:London'] })}`)).body.partOf.total, bl.length);
      assert.equal((await get(`${service(BL)}?${query({ meta: ['language:English', 'place:Paris'] })}`)).body.partOf.total, 0, 'names ANDed');
      const codex = items.get(CODEX)!;
      const creator = codex[0]!.facets!.creator![0]!;
      assert.match(creator, /Sahagún/);
      assert.equal((await get(`${service(CODEX)}?${query({ meta: `creator:${creator}`, q: 'a drawing' })}`)).body.partOf.total, codex.length);
      assert.equal((await get(`${service(VILLANOVA)}?${query({ meta: `creator:${creator}` })}`)).body.partOf.total, 0, 'another manifest\'s creator');
    });

    it('dateFrom and dateTo keep the canvases dated in the range, inclusive, as the search API reads them', async () => {
      const nga = items.get(NGA)!;
      const inRange = (from: string, to: string) => nga.filter((it) => it.date && it.date.slice(0, 4) >= from && it.date.slice(0, 4) <= to);
      const eighties = inRange('1880', '1889');
      assert.ok(eighties.length >= 2 && eighties.length < nga.length);
      for (const version of [1, 2] as const) {
        const res = await get(`${service(NGA, version)}?${query({ dateFrom: '1880', dateTo: '1889' })}`);
        assert.equal(res.status, 200, res.text);
        const total = version === 1 ? res.body.within.total : res.body.partOf.total;
        assert.equal(total, eighties.length);
        const targets: string[] = version === 1 ? res.body.resources.map((a: { on: string }) => a.on) : res.body.items.map((a: { target: { id: string } }) => a.target.id);
        for (const t of targets) assert.match(byCanvas(NGA, t).date!, /^188\d/);
      }
      const since1900 = nga.filter((it) => it.date && it.date >= '1900');
      assert.equal((await get(`${service(NGA)}?${query({ dateFrom: '1900', q: 'a portrait' })}`)).body.partOf.total, since1900.length);
      assert.equal((await get(`${service(NGA)}?${query({ dateTo: '1888' })}`)).body.partOf.total, inRange('0000', '1888').length, '1888 includes all of 1888');
    });

    it('rights= keeps the canvases under that rights URI, as normalised when harvested', async () => {
      const villanova = items.get(VILLANOVA)!;
      // Villanova writes http://…/by-sa/4.0/: the index (and the filter) has the canonical https form.
      assert.equal(villanova[0]!.rights, 'https://creativecommons.org/licenses/by-sa/4.0/');
      assert.equal((await get(`${service(VILLANOVA)}?${query({ rights: 'https://creativecommons.org/licenses/by-sa/4.0/' })}`)).body.partOf.total, villanova.length);
      assert.equal((await get(`${service(VILLANOVA)}?${query({ rights: 'https://creativecommons.org/publicdomain/mark/1.0/', q: 'a map' })}`)).body.partOf.total, 0);
      const both = await get(`${service(VILLANOVA)}?${query({ rights: ['https://creativecommons.org/publicdomain/mark/1.0/', 'https://creativecommons.org/licenses/by-sa/4.0/'] })}`);
      assert.equal(both.body.partOf.total, villanova.length, 'rights ORed');
    });

    it('the filters shape the result set (ids, paging links) and are not ignored; the specs\' date still is', async () => {
      const params = { q: 'a garden', meta: 'dated:1888', rights: 'https://example.org/none', dateFrom: '1880', dateTo: '1889', date: '2024-01-01' };
      const empty = await get(`${service(NGA)}?${query(params)}`);
      assert.deepEqual(empty.body.ignored, ['date']);
      assert.equal(empty.body.partOf.total, 0);
      const shaping = { meta: 'dated:1888', dateFrom: '1880', dateTo: '1889' };
      const two = await get(`${service(NGA)}?${query({ ...shaping, date: '2024', limit: '1' })}`);
      assert.deepEqual(two.body.ignored, ['date']);
      const kept = Object.entries(shaping).map(([k, v]) => new URLSearchParams({ [k]: v }).toString());
      for (const link of [two.body.id, two.body.partOf.id, two.body.partOf.first.id, two.body.partOf.last.id, two.body.next.id]) {
        for (const param of kept) assert.ok(link.includes(param), `${link} keeps ${param}`);
        assert.ok(!link.includes('date=2024'), `${link} drops the ignored date`);
      }
      const next = await get(new URL(two.body.next.id).pathname + new URL(two.body.next.id).search);
      assert.equal(next.body.partOf.total, two.body.partOf.total);
      assert.match(byCanvas(NGA, next.body.items[0].target.id).date!, /^1888/);
      const one = await get(`${service(NGA, 1)}?${query({ ...shaping, date: '2024' })}`);
      assert.deepEqual(one.body.within.ignored, ['date']);
      for (const param of kept) assert.ok(one.body['@id'].includes(param) && one.body.within.first.includes(param), one.body['@id']);
      assert.ok(!one.body['@id'].includes('date=2024'));
    });

    it("each hit's text names its canvas's metadata facet values, as meta= takes them", async () => {
      const two = await get(`${service(NGA)}?${query({ q: 'a garden', meta: 'dated:1888' })}`);
      for (const anno of two.body.items) assert.match(anno.body.value, / \[dated: 1888\]/, anno.body.value);
      const one = await get(service(CODEX, 1));
      const creator = items.get(CODEX)![0]!.facets!.creator![0]!;
      for (const anno of one.body.resources) assert.ok(anno.resource.chars.includes(`creator: ${creator}`), anno.resource.chars);
    });

    it('answers 400 naming the facets there are for an unknown meta name, and for a malformed date or meta', async () => {
      const unknown = await get(`${service(NGA)}?${query({ meta: 'painter:Degas' })}`);
      assert.equal(unknown.status, 400);
      assert.match(unknown.headers['content-type']!, /^application\/problem\+json/);
      assert.equal(unknown.body.errors[0].name, 'meta');
      assert.match(unknown.body.errors[0].reason, /"painter".*creator, dated, language, place, subject, type/);
      for (const bad of [{ dateFrom: 'May 1888' }, { dateTo: '' }, { meta: 'no colon' }, { rights: '' }]) {
        const res = await get(`${service(NGA)}?${query(bad)}`);
        assert.equal(res.status, 400, JSON.stringify(bad));
        assert.equal(res.body.errors[0].name, Object.keys(bad)[0]);
      }
    });
  });
}

describe('IIIF Content Search: the metadata filters in the OpenAPI document', () => {
  it('documents meta, dateFrom, dateTo and rights on both versions, as the search API names them', () => {
    const api = loadConfig({ env: {} }).api;
    const doc = openApiDocument(createSchemas(api), api) as { paths: Record<string, { get: { parameters: Array<{ name: string; description?: string }> } }> };
    const search = new Map(doc.paths['/search']!.get.parameters.map((p) => [p.name, p]));
    for (const version of [1, 2]) {
      const params = new Map(doc.paths[`/iiif/search/v${version}/{manifestKey}`]!.get.parameters.map((p) => [p.name, p]));
      for (const name of ['meta', 'dateFrom', 'dateTo', 'rights', 'labels']) {
        assert.ok(params.has(name), `v${version} documents ${name}`);
        assert.ok(search.has(name), `/search has ${name} too`);
      }
      assert.match(params.get('meta')!.description!, /name:value/);
      assert.match(params.get('date')!.description!, /Not implemented/);
    }
  });
});
