import assert from 'node:assert/strict';
import express from 'express';
import { request, type TestResponse } from './supertest.ts';
import { createSearchRouter, type SearchRouter } from '../../plugin/index.ts';
import { requireFixtures } from '../support/fixtures.ts';
import { createSearchFixture, type SearchFixture } from '../support/search-fixture.ts';

type Schema = Record<string, any>;

/**
 * The subset of JSON Schema 2020-12 the document uses, enough to check real responses against it:
 * type, properties, required, additionalProperties, items, enum, const, anyOf, oneOf, allOf, $ref,
 * numeric and length bounds, pattern. Returns the paths that do not match.
 */
function check(value: unknown, schema: Schema, root: Schema, at = '$'): string[] {
  if (schema.$ref) {
    const target = (schema.$ref as string).replace(/^#\//, '').split('/').reduce<any>((o, k) => o?.[k], root);
    assert.ok(target, `unresolved ${schema.$ref}`);
    return check(value, target, root, at);
  }
  const errors: string[] = [];
  const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v);
  if (schema.type) {
    const types: string[] = Array.isArray(schema.type) ? schema.type : [schema.type];
    const t = typeOf(value);
    if (!types.includes(t) && !(t === 'integer' && types.includes('number'))) return [`${at}: ${t} is not ${types.join('|')}`];
  }
  if (schema.enum && !schema.enum.some((e: unknown) => e === value)) errors.push(`${at}: ${JSON.stringify(value)} not in enum`);
  if ('const' in schema && schema.const !== value) errors.push(`${at}: not ${JSON.stringify(schema.const)}`);
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) errors.push(`${at}: below minimum`);
    if (schema.maximum !== undefined && value > schema.maximum) errors.push(`${at}: above maximum`);
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) errors.push(`${at}: too short`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength) errors.push(`${at}: too long`);
    if (schema.pattern && !new RegExp(schema.pattern, 'u').test(value)) errors.push(`${at}: does not match ${schema.pattern}`);
  }
  if (Array.isArray(value) && schema.items) value.forEach((v, i) => errors.push(...check(v, schema.items, root, `${at}[${i}]`)));
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    for (const key of schema.required ?? []) if (!(key in obj)) errors.push(`${at}.${key}: required`);
    for (const [key, v] of Object.entries(obj)) {
      const prop = schema.properties?.[key];
      if (prop) errors.push(...check(v, prop, root, `${at}.${key}`));
      else if (schema.propertyNames && check(key, schema.propertyNames, root).length) errors.push(`${at}: key ${key} not allowed`);
      else if (schema.additionalProperties === false) errors.push(`${at}.${key}: not documented`);
      else if (typeof schema.additionalProperties === 'object') errors.push(...check(v, schema.additionalProperties, root, `${at}.${key}`));
    }
  }
  if (schema.allOf) for (const s of schema.allOf) errors.push(...check(value, s, root, at));
  for (const key of ['anyOf', 'oneOf'] as const) {
    if (!schema[key]) continue;
    const matching = (schema[key] as Schema[]).filter((s) => check(value, s, root, at).length === 0).length;
    if (matching === 0 || (key === 'oneOf' && matching > 1)) errors.push(`${at}: ${matching} of ${key} match`);
  }
  return errors;
}

/** Every method and path the router answers, from the express 5 router stack, mounted routers included. */
function registeredRoutes(router: { stack: any[] }, prefix = ''): string[] {
  const out: string[] = [];
  for (const layer of router.stack) {
    if (layer.route) {
      const paths: string[] = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
      for (const method of Object.keys(layer.route.methods)) {
        // OPTIONS routes answer CORS preflights; `_all` is the admin router's 405 for other methods.
        if (method === 'options' || method === '_all') continue;
        for (const p of paths) out.push(`${method.toUpperCase()} ${(prefix + p).replace(/:(\w+)/g, '{$1}')}`);
      }
    } else if (Array.isArray(layer.handle?.stack)) {
      out.push(...registeredRoutes(layer.handle, prefix + (typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '')));
    }
  }
  return out;
}

const documentedRoutes = (doc: Schema) =>
  Object.entries(doc.paths as Record<string, Schema>).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((k) => ['get', 'post', 'put', 'patch', 'delete', 'head'].includes(k))
      .map((m) => `${m.toUpperCase()} ${path}`),
  );

describe('plugin: OpenAPI document', function () {
  requireFixtures(this);
  let f: SearchFixture;
  let router: SearchRouter;
  let app: express.Express;
  let doc: Schema;

  /** The documented schema of a response: by path, method, status and media type. */
  const responseSchema = (path: string, method: string, status: number, type = 'application/json'): Schema => {
    const content = doc.paths[path]?.[method]?.responses?.[String(status)]?.content;
    assert.ok(content, `${method.toUpperCase()} ${path} does not document ${status}`);
    assert.ok(content[type], `${method.toUpperCase()} ${path} ${status} is not documented as ${type}`);
    return content[type].schema;
  };
  const conforms = (res: TestResponse, path: string, method: string) => {
    const type = res.headers['content-type']!.split(';')[0]!;
    const errors = check(res.body, responseSchema(path, method, res.status, type), doc);
    assert.deepEqual(errors, [], `${method.toUpperCase()} ${path} ${res.status}: ${res.text.slice(0, 300)}`);
  };

  before(async () => {
    f = await createSearchFixture();
    router = createSearchRouter({ store: f.store, encoders: f.encoders, config: { ...f.config, api: { ...f.config.api, adminToken: 'an-admin-token-0123456789' } } });
    app = express().use('/api/v1', router);
    doc = (await request(app).get('/api/v1/openapi.json').expect(200)).body;
  });
  after(async () => {
    await router?.close();
    await f?.close();
  });

  it('is OpenAPI 3.1 with the mount point as server', () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.info.title && doc.info.version);
    assert.deepEqual(doc.servers, [{ url: '/api/v1' }]);
  });

  it('documents every registered route, and only those', () => {
    const registered = [...new Set(registeredRoutes(router as unknown as { stack: any[] }))].sort();
    const documented = documentedRoutes(doc).sort();
    assert.deepEqual(registered, documented);
    assert.ok(registered.includes('GET /iiif/search/v2/{manifestKey}') && registered.includes('POST /admin/harvests'));
  });

  it('leaves the admin routes out when no admin token enables them', async () => {
    const plain = createSearchRouter({ store: f.store, encoders: f.encoders, config: f.config });
    const body = (await request(express().use(plain)).get('/openapi.json').expect(200)).body;
    assert.ok(!Object.keys(body.paths).some((p) => p.startsWith('/admin')));
    assert.ok(!JSON.stringify(body).includes('securitySchemes'));
    await plain.close();
  });

  it('documents each parameter the routes accept, with the configured limits', async () => {
    const search = doc.paths['/search'].get.parameters as Schema[];
    const names = search.map((p) => p.name).sort();
    assert.deepEqual(names, ['collection', 'dateFrom', 'dateTo', 'labels', 'limit', 'manifest', 'meta', 'minScore', 'offset', 'q', 'rights', 'semanticRatio', 'source']);
    assert.equal(search.find((p) => p.name === 'limit')!.schema.maximum, f.config.api.maxLimit);
    assert.equal(search.find((p) => p.name === 'q')!.schema.maxLength, f.config.api.maxQueryLength);
    assert.equal(search.find((p) => p.name === 'q')!.required, true);
    // Every documented parameter is accepted at once.
    await request(app)
      .get('/api/v1/search')
      .query({ q: 'x', collection: 'c', dateFrom: '1900', dateTo: '2000', labels: 'l', limit: 5, manifest: 'm', meta: 'creator:c', minScore: 0, offset: 0, rights: 'r', semanticRatio: 0.5, source: 's' })
      .expect(200);
    const image = doc.paths['/search/image'].post.requestBody.content;
    assert.ok(image['multipart/form-data'].schema.properties.image);
    assert.deepEqual(Object.keys(image['application/json'].schema.properties).sort(), ['canvas', 'iiif', 'manifest', 'url', 'xywh']);
    assert.deepEqual(doc.paths['/items/{id}'].get.parameters.map((p: Schema) => [p.name, p.in, p.required]), [['id', 'path', true]]);
  });

  it('describes real responses: searches, items, facets, stats, health', async () => {
    const search = await request(app).get('/api/v1/search').query({ q: 'a street', limit: 5 }).expect(200);
    conforms(search, '/search', 'get');
    const id = search.body.hits[0].id;
    conforms(await request(app).get('/api/v1/search').query({ q: 'level0', semanticRatio: 0.5 }).expect(200), '/search', 'get');
    conforms(await request(app).get(`/api/v1/items/${id}`).expect(200), '/items/{id}', 'get');
    conforms(await request(app).get(`/api/v1/items/${id}/similar`).expect(200), '/items/{id}/similar', 'get');
    conforms(await request(app).post('/api/v1/search/examples').send({ positive: [id] }).expect(200), '/search/examples', 'post');
    const canvas = f.inst.manifests[0]!.canvases[0]!;
    conforms(await request(app).post('/api/v1/search/image').send({ canvas: canvas.id, xywh: '0,0,100,100' }).expect(200), '/search/image', 'post');
    conforms(await request(app).get('/api/v1/facets').expect(200), '/facets', 'get');
    conforms(await request(app).get('/api/v1/stats').expect(200), '/stats', 'get');
    conforms(await request(app).get('/api/v1/health').expect(200), '/health', 'get');
    const metrics = await request(app).get('/api/v1/metrics').expect(200);
    assert.ok(responseSchema('/metrics', 'get', 200, 'text/plain'));
    assert.match(metrics.text, /^# HELP /);
  });

  it('describes real problems', async () => {
    conforms(await request(app).get('/api/v1/search').query({ limit: 1000 }).expect(400), '/search', 'get');
    conforms(await request(app).get('/api/v1/items/0123456789abcdef0123456789abcdef').expect(404), '/items/{id}', 'get');
    conforms(await request(app).post('/api/v1/search/image').set('Content-Type', 'text/plain').send('x').expect(415), '/search/image', 'post');
    conforms(await request(app).post('/api/v1/search/examples').send({ positive: [[1]] }).expect(400), '/search/examples', 'post');
    // A schema check that cannot fail proves nothing: an undocumented field is caught.
    const bad = check({ ...(await request(app).get('/api/v1/stats')).body, extra: 1 }, responseSchema('/stats', 'get', 200), doc);
    assert.deepEqual(bad, ['$.extra: not documented']);
  });
});
