/**
 * `reprise relabel` over an index harvested the real way (loopback institution, tiny generated
 * model): after the label sets change in the configuration, /facets follows the new sets, and not
 * one request reaches the institution (no image fetched, none embedded). The tiny model's weights
 * are random: which label an image gets means nothing, the mechanics are what is tested.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { createSearchRouter } from '../../plugin/index.ts';
import { openStore, type VectorStore } from '../../store/index.ts';
import { requireFixtures } from '../support/fixtures.ts';
import { createSearchFixture, type SearchFixture } from '../support/search-fixture.ts';
import { tinyModel } from '../support/tiny-model.ts';
import { request } from '../plugin/supertest.ts';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/reprise.js');

function reprise(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const GENRE = ['photograph', 'drawing', 'engraving', 'map', 'painting', 'poster'];
const MEDIUM = ['glass plate negative', 'colour slide', 'halftone print'];

describe('reprise relabel (command line)', function () {
  requireFixtures(this);
  this.timeout(180_000);
  let fixture: SearchFixture;
  let items: number;

  before(async () => {
    fixture = await createSearchFixture({ config: { 'models.labels': { sets: { genre: GENRE }, minScore: 0 } } });
    items = (await fixture.store.stats()).items;
    // The child opens the same embedded store: release this process's handle first.
    await fixture.store.close();
  });
  after(async () => {
    await fixture?.encoders.close();
    await fixture?.inst.close();
  });

  /** A configuration file naming the fixture's index and model, with these label settings. */
  function configWith(labels: Record<string, unknown>, modelPath = fixture.config.models.path!): string {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'reprise-relabel-config-')), 'reprise.config.json');
    writeFileSync(file, JSON.stringify({ dataDir: fixture.dataDir, models: { path: modelPath, threads: 1, labels } }));
    return file;
  }

  async function labelFacet(): Promise<Record<string, number>> {
    const store: VectorStore = await openStore(fixture.config.store, fixture.dataDir);
    const router = createSearchRouter({ store, encoders: fixture.encoders, config: fixture.config });
    try {
      const res = await request(express().use('/api', router)).get('/api/facets').expect(200);
      return Object.fromEntries((res.body.facets.labels.values as Array<{ value: string; count: number }>).map((v) => [v.value, v.count]));
    } finally {
      await router.close();
      await store.close();
    }
  }

  const sum = (facet: Record<string, number>, prefix: string) => Object.entries(facet).reduce((n, [v, c]) => n + (v.startsWith(prefix) ? c : 0), 0);

  it('labels every item again from its stored vector with the new sets: /facets follows, and no image is fetched', async () => {
    const before = await labelFacet();
    assert.equal(sum(before, 'genre:'), items, 'harvested with the genre set');
    assert.equal(sum(before, 'medium:'), 0);

    fixture.inst.resetStats();
    const run = await reprise(['relabel', '--config', configWith({ sets: { medium: MEDIUM }, minScore: 0 }), '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /relabelling the index "reprise" \(model .+\) with label sets medium \(3 labels\)/);
    const summary = JSON.parse(run.stdout);
    assert.equal(summary.status, 'completed');
    assert.equal(summary.items, items);
    assert.equal(summary.relabelled, items);
    assert.equal(summary.changed, items, 'every item lost its genre and got a medium');
    assert.equal(summary.withoutVector, 0);
    assert.ok(Object.keys(summary.labels).every((l) => l.startsWith('medium:')));
    assert.equal(Object.values(summary.labels as Record<string, number>).reduce((a, b) => a + b, 0), items);
    assert.equal(fixture.inst.stats.requests, 0, 'the institution was not asked for anything: no image fetched');

    const after = await labelFacet();
    assert.equal(sum(after, 'genre:'), 0, 'the old set is gone from the facet');
    assert.equal(sum(after, 'medium:'), items);
    for (const [label, count] of Object.entries(summary.labels as Record<string, number>)) assert.equal(after[label], count, label);
  });

  it('with the sets emptied, removes the labels the model gave and says so in its summary', async () => {
    const run = await reprise(['relabel', '--config', configWith({ sets: {} })]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /no label sets \(models\.labels\.sets is empty\): the labels the model gave are removed/);
    assert.match(run.stdout, new RegExp(`^relabelled ${items} of ${items} items from their stored vectors \\(${items} changed, 0 without a vector left as they were\\) in [\\d.]+ s; no image was fetched or embedded\\n$`));
    const after = await labelFacet();
    assert.equal(sum(after, 'medium:') + sum(after, 'genre:'), 0);
    assert.equal(fixture.inst.stats.requests, 0);
  });

  it('refuses a model other than the one that embedded the index, naming both, and changes nothing', async () => {
    const before = await labelFacet();
    const run = await reprise(['relabel', '--config', configWith({ sets: { medium: MEDIUM }, minScore: 0 }, await tinyModel('openclip'))]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^reprise: the index "reprise" holds vectors of .+, but the configured model is .+/m);
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
    assert.deepEqual(await labelFacet(), before);
  });
});
