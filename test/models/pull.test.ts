import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { handPlacementHelp, ModelPullError, pullModel, type PullEvent, type PullManifest } from '../../models/pull.ts';
import type { RegistryEntry } from '../../models/registry.ts';

/**
 * A loopback stand-in for the Hugging Face Hub: the tree API with sizes, git blob ids and
 * LFS sha256, /resolve/ answering LFS files with a 302 to a "CDN" path, Range requests,
 * and switches for the failures a real download meets.
 */
interface HubFile {
  body: Buffer;
  lfs: boolean;
}

interface Faults {
  /** Paths whose next full (unranged) transfer stops half-way by closing the socket. */
  cutOnce: Set<string>;
  /** Paths whose next transfer sends half and then goes silent. */
  stallOnce: Set<string>;
  /** Paths served with different bytes than the listing's checksum. */
  corrupt: Set<string>;
  /** Answer 200 with the whole file to ranged requests. */
  ignoreRange: boolean;
  /** Page the tree listing one entry at a time. */
  paginate: boolean;
  /** The model-info API answers without saying which commit the branch is at. */
  noCommit: boolean;
}

interface Seen {
  method: string;
  url: string;
  range?: string;
  authorization?: string;
}

class FakeHub {
  readonly files = new Map<string, HubFile>();
  readonly faults: Faults = { cutOnce: new Set(), stallOnce: new Set(), corrupt: new Set(), ignoreRange: false, paginate: false, noCommit: false };
  /** The commit `main` points to; the tree and resolve APIs answer for either name, as the hub does. */
  commit = 'c0ffee0000000000000000000000000000000000';
  readonly seen: Seen[] = [];
  private server = http.createServer((req, res) => this.handle(req, res));
  /** Another origin, as the real CDN is: what the hub's token must not reach. */
  private cdn = http.createServer((req, res) => this.handle(req, res));
  private sockets = new Set<import('node:net').Socket>();
  url = '';
  cdnUrl = '';

  constructor(readonly repo: string) {
    for (const server of [this.server, this.cdn]) {
      server.on('connection', (s) => {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
      });
    }
  }

  add(p: string, body: Buffer | string, lfs = p.endsWith('.onnx') || !/\.(json|txt|md)$/.test(p)): void {
    this.files.set(p, { body: Buffer.isBuffer(body) ? body : Buffer.from(body), lfs });
  }

  async start(): Promise<void> {
    for (const server of [this.server, this.cdn]) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    this.cdnUrl = `http://127.0.0.1:${(this.cdn.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    for (const server of [this.server, this.cdn]) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  downloads(p: string): Seen[] {
    return this.seen.filter((s) => (s.url.startsWith('/cdn/') ? s.url.includes(`name=${encodeURIComponent(p)}`) : /\/resolve\/[^/]+\//.test(s.url) && s.url.endsWith(`/${p}`)));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url!, this.url);
    this.seen.push({
      method: req.method!,
      url: req.url!,
      ...(req.headers.range ? { range: req.headers.range } : {}),
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    });
    const ref = /^\/(?:api\/models\/[^/]+\/[^/]+\/(?:tree|revision)|[^/]+\/[^/]+\/resolve)\/([^/]+)/.exec(url.pathname)?.[1];
    if (ref && ref !== 'main' && ref !== this.commit) return void res.writeHead(404).end('Revision not found');
    if (url.pathname === `/api/models/${this.repo}/revision/${ref}`) {
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: this.repo, ...(this.faults.noCommit ? {} : { sha: this.commit }) }));
    }
    const treePrefix = `/api/models/${this.repo}/tree/${ref}`;
    const resolvePrefix = `/${this.repo}/resolve/${ref}/`;
    if (url.pathname === treePrefix || url.pathname.startsWith(treePrefix + '/')) return this.tree(url, decodeURIComponent(url.pathname.slice(treePrefix.length + 1)), res);
    if (url.pathname.startsWith(resolvePrefix)) {
      const p = decodeURIComponent(url.pathname.slice(resolvePrefix.length));
      const f = this.files.get(p);
      if (!f) return void res.writeHead(404).end('Entry not found');
      if (f.lfs) {
        // Real LFS downloads leave the hub for a signed CDN address.
        const sha = sha256(f.body);
        res.writeHead(302, { location: `${this.cdnUrl}/cdn/${sha}?name=${encodeURIComponent(p)}&sig=abc`, ...(this.faults.noCommit ? {} : { 'x-repo-commit': this.commit }) });
        return void res.end();
      }
      return this.serve(p, f, req, res);
    }
    if (url.pathname.startsWith('/cdn/')) {
      const p = url.searchParams.get('name')!;
      const f = this.files.get(p);
      if (!f) return void res.writeHead(404).end();
      return this.serve(p, f, req, res);
    }
    res.writeHead(404).end();
  }

  private tree(url: URL, folder: string, res: http.ServerResponse): void {
    const entries: object[] = [];
    const dirs = new Set<string>();
    for (const [p, f] of this.files) {
      const parent = path.posix.dirname(p) === '.' ? '' : path.posix.dirname(p);
      if (parent === folder) {
        entries.push({
          type: 'file',
          oid: f.lfs ? 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' : gitBlobId(f.body),
          size: f.lfs ? 134 : f.body.length,
          path: p,
          ...(f.lfs ? { lfs: { oid: sha256(f.body), size: f.body.length, pointerSize: 134 } } : {}),
        });
      } else if (folder === '' ? !p.startsWith('/') : p.startsWith(folder + '/')) {
        const rest = folder === '' ? p : p.slice(folder.length + 1);
        if (rest.includes('/')) dirs.add((folder ? folder + '/' : '') + rest.split('/')[0]);
      }
    }
    for (const d of dirs) entries.push({ type: 'directory', oid: 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', size: 0, path: d });
    if (!entries.length) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
    if (this.faults.paginate) {
      const cursor = Number(url.searchParams.get('cursor') ?? 0);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (cursor + 1 < entries.length) headers.link = `<${url.pathname}?cursor=${cursor + 1}>; rel="next"`;
      return void res.writeHead(200, headers).end(JSON.stringify(entries.slice(cursor, cursor + 1)));
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(entries));
  }

  private serve(p: string, f: HubFile, req: http.IncomingMessage, res: http.ServerResponse): void {
    let body = f.body;
    if (this.faults.corrupt.has(p)) {
      body = Buffer.from(body);
      const mid = body.length >> 1;
      body[mid] = body[mid]! ^ 0xff;
    }
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range && !this.faults.ignoreRange) {
      start = Number(range[1]);
      if (start >= body.length) return void res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
      res.writeHead(206, { 'content-length': body.length - start, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}`, 'accept-ranges': 'bytes' });
    } else {
      res.writeHead(200, { 'content-length': body.length, 'accept-ranges': 'bytes' });
    }
    const rest = body.subarray(start);
    if (this.faults.cutOnce.has(p) && start === 0) {
      this.faults.cutOnce.delete(p);
      res.write(rest.subarray(0, rest.length >> 1), () => setTimeout(() => req.socket.destroy(), 20));
      return;
    }
    if (this.faults.stallOnce.has(p)) {
      this.faults.stallOnce.delete(p);
      res.write(rest.subarray(0, rest.length >> 1));
      return; // never ends: the client's stall timeout must drop it
    }
    res.end(rest);
  }
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

function gitBlobId(b: Buffer): string {
  return createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
}

const REPO = 'test-org/tiny-clip';

function hfEntry(overrides: Partial<RegistryEntry> = {}): RegistryEntry {
  return {
    name: 'tiny-clip',
    repo: REPO,
    revision: 'main',
    layout: 'huggingface',
    commonFiles: ['config.json', 'preprocessor_config.json', 'tokenizer.json', 'tokenizer_config.json'],
    variantFiles: {
      fp32: ['onnx/vision_model.onnx', 'onnx/text_model.onnx'],
      quantized: ['onnx/vision_model_quantized.onnx', 'onnx/text_model_quantized.onnx'],
    },
    embeddingDim: 8,
    imageSize: 32,
    languages: ['en'],
    approxDownloadMB: { fp32: 1, quantized: 1 },
    licence: 'MIT',
    sourceUrl: 'https://example.org/tiny-clip',
    whenToChoose: 'tests',
    ...overrides,
  };
}

function fillHf(hub: FakeHub): void {
  hub.add('config.json', JSON.stringify({ model_type: 'clip', projection_dim: 8 }));
  hub.add('preprocessor_config.json', JSON.stringify({ size: 32, crop_size: 32 }));
  hub.add('tokenizer.json', JSON.stringify({ added_tokens: [] }));
  hub.add('tokenizer_config.json', JSON.stringify({ pad_token: '<|endoftext|>' }));
  hub.add('README.md', '# not wanted');
  hub.add('onnx/vision_model.onnx', randomBytes(300_000));
  hub.add('onnx/text_model.onnx', randomBytes(200_000));
  hub.add('onnx/vision_model_quantized.onnx', randomBytes(80_000));
  hub.add('onnx/text_model_quantized.onnx', randomBytes(50_000));
  hub.add('onnx/model.onnx', randomBytes(10_000));
}

/** Small delays so the retry paths run in milliseconds. */
const FAST = { retries: 3, retryBaseDelayMs: 5, responseTimeoutMs: 5000, stallTimeoutMs: 5000 };

describe('models/pull', function () {
  let hub: FakeHub;
  let cacheDir: string;

  beforeEach(async () => {
    hub = new FakeHub(REPO);
    fillHf(hub);
    await hub.start();
    cacheDir = mkdtempSync(path.join(os.tmpdir(), 'reprise-pull-'));
  });

  afterEach(async () => {
    await hub.stop();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('downloads the files of a variant through the CDN redirect, verifies them and writes a manifest', async () => {
    const events: PullEvent[] = [];
    const dir = await pullModel(hfEntry(), { cacheDir, hubUrl: hub.url, variant: 'fp32', token: 'hf_secret', onProgress: (e) => events.push(e), ...FAST });
    assert.equal(dir, path.join(cacheDir, 'tiny-clip'));
    for (const p of ['config.json', 'preprocessor_config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/vision_model.onnx', 'onnx/text_model.onnx']) {
      assert.deepEqual(readFileSync(path.join(dir, p)), hub.files.get(p)!.body, p);
      assert.ok(!existsSync(path.join(dir, p + '.partial')));
    }
    assert.ok(!existsSync(path.join(dir, 'onnx/vision_model_quantized.onnx')), 'other variants are not fetched');
    assert.ok(!existsSync(path.join(dir, 'README.md')));

    const manifest = JSON.parse(readFileSync(path.join(dir, 'reprise-model.json'), 'utf8')) as PullManifest;
    assert.equal(manifest.name, 'tiny-clip');
    assert.equal(manifest.repo, REPO);
    assert.equal(manifest.revision, 'main');
    assert.equal(manifest.commit, 'c0ffee0000000000000000000000000000000000');
    assert.deepEqual(manifest.variants, ['fp32']);
    assert.ok(!Number.isNaN(Date.parse(manifest.pulledAt)));
    assert.equal(manifest.files.length, 6);
    for (const f of manifest.files) assert.equal(f.sha256, sha256(hub.files.get(f.path)!.body), f.path);

    // The LFS files went through the redirect; the token stayed on the hub.
    assert.ok(hub.seen.some((s) => s.url.startsWith('/cdn/')));
    assert.ok(hub.seen.filter((s) => s.url.startsWith('/cdn/')).every((s) => !s.authorization));
    assert.ok(hub.seen.filter((s) => s.url.startsWith('/api/')).every((s) => s.authorization === 'Bearer hf_secret'));

    const plan = events.find((e) => e.type === 'plan');
    assert.ok(plan && plan.type === 'plan');
    assert.equal(plan.totalBytes, [...manifest.files].reduce((n, f) => n + f.size, 0));
    assert.equal(plan.presentBytes, 0);
    const last = events.filter((e) => e.type === 'progress').at(-1);
    assert.ok(last && last.type === 'progress' && last.doneBytes === plan.totalBytes);
    assert.equal(events.at(-1)!.type, 'done');
  });

  it('an unpinned entry is listed and fetched at the commit its branch pointed to when the pull began, and that commit is recorded', async () => {
    await pullModel(hfEntry(), { cacheDir, hubUrl: hub.url, variant: 'quantized', ...FAST });
    const onHub = hub.seen.filter((s) => !s.url.startsWith('/cdn/'));
    assert.equal(onHub.filter((s) => s.url.includes('/revision/main')).length, 1, 'the branch is resolved once');
    assert.deepEqual(onHub.filter((s) => !s.url.includes('/revision/') && !s.url.includes(hub.commit)), [], 'nothing else is asked of "main"');

    // main moves on (a re-upload changes a tower): the next pull records the new commit, fetches
    // what changed, and no longer claims the variant pulled from the old upload.
    hub.commit = 'beef000000000000000000000000000000000001';
    hub.add('onnx/text_model.onnx', randomBytes(200_000));
    hub.seen.length = 0;
    const dir = await pullModel(hfEntry(), { cacheDir, hubUrl: hub.url, variant: 'fp32', ...FAST });
    const manifest = JSON.parse(readFileSync(path.join(dir, 'reprise-model.json'), 'utf8')) as PullManifest;
    assert.equal(manifest.revision, 'main');
    assert.equal(manifest.commit, 'beef000000000000000000000000000000000001');
    assert.deepEqual(manifest.variants, ['fp32']);
    assert.ok(!manifest.files.some((f) => f.path.includes('quantized')), 'files of the old commit are not listed as this model');
    assert.deepEqual(readFileSync(path.join(dir, 'onnx/text_model.onnx')), hub.files.get('onnx/text_model.onnx')!.body);
    assert.ok(hub.seen.some((s) => s.url.includes('/resolve/beef000000000000000000000000000000000001/onnx/text_model.onnx')));
  });

  it('a pinned entry is fetched at its commit without asking which commit a branch is at', async () => {
    const dir = await pullModel(hfEntry({ revision: hub.commit }), { cacheDir, hubUrl: hub.url, variant: 'fp32', ...FAST });
    assert.ok(!hub.seen.some((s) => s.url.includes('/revision/')));
    assert.ok(!hub.seen.some((s) => s.url.includes('/main')));
    const manifest = JSON.parse(readFileSync(path.join(dir, 'reprise-model.json'), 'utf8')) as PullManifest;
    assert.equal(manifest.revision, hub.commit);
    assert.equal(manifest.commit, hub.commit);
  });

  it('refuses an unpinned pull when the hub does not say which commit the branch is at, downloading nothing', async () => {
    hub.faults.noCommit = true;
    await assert.rejects(pullModel(hfEntry(), { cacheDir, hubUrl: hub.url, variant: 'fp32', ...FAST }), (err: unknown) => {
      assert.ok(err instanceof ModelPullError);
      assert.equal(err.reason, 'http');
      assert.match(err.message, /did not say which commit test-org\/tiny-clip@main is at .*records the commit in the model id.*models\.path/);
      return true;
    });
    assert.ok(!hub.seen.some((s) => s.url.includes('/tree/') || s.url.includes('/resolve/')));
    assert.ok(!existsSync(path.join(cacheDir, 'tiny-clip', 'reprise-model.json')));
  });

  it('skips files already complete and verified: a second pull downloads nothing', async () => {
    await pullModel(hfEntry(), { cacheDir, hubUrl: hub.url, variant: 'fp32', ...FAST });
    hub.seen.length = 0;
    const events: PullEvent[] = [];
    await pullModel(hfEntry(), { cacheDir, hubUrl: hub.url, variant: 'fp32', onProgress: (e) => events.push(e), ...FAST });
    assert.deepEqual(hub.seen.filter((s) => !s.url.startsWith('/api/')), []);
    assert.equal(events.filter((e) => e.type === 'file-done' && e.skipped).length, 6);
  });

  it('hashes a complete file it has no manifest for, and replaces one that does not match', async () => {
    const dir = path.join(cacheDir, 'tiny-clip');
    mkdirSync(path.join(dir, 'onnx'), { recursive: true });
    writeFileSync(path.join(dir, 'onnx/vision_model.onnx'), hub.files.get('onnx/vision_model.onnx')!.body);
    writeFileSync(path.join(dir, 'onnx/text_model.onnx'), randomBytes(200_000)); // right size, wrong bytes
    await pullModel(hfEntry(), { cacheDir, hubUrl: hub.url, variant: 'fp32', ...FAST });
    assert.equal(hub.downloads('onnx/vision_model.onnx').length, 0);
    assert.ok(hub.downloads('onnx/text_model.onnx').length > 0);
    assert.deepEqual(readFileSync(path.join(dir, 'onnx/text_model.onnx')), hub.files.get('onnx/text_model.onnx')!.body);
  });

  it('resumes an interrupted transfer with a Range request', async () => {
    hub.faults.cutOnce.add('onnx/vision_model.onnx');
    const events: PullEvent[] = [];
    const dir = await pullModel(hfEntry(), { cacheDir, hubUrl: hub.url, variant: 'fp32', onProgress: (e) => events.push(e), ...FAST });
    assert.deepEqual(readFileSync(path.join(dir, 'onnx/vision_model.onnx')), hub.files.get('onnx/vision_model.onnx')!.body);
    const ranged = hub.downloads('onnx/vision_model.onnx').filter((s) => s.range);
    assert.equal(ranged.length, 2, 'the resume asks for the rest, on the hub and again on the CDN after the redirect');
    const from = Number(/bytes=(\d+)-/.exec(ranged[0]!.range!)![1]);
    assert.ok(from > 0 && from < 300_000, `resumed from ${from}`);
    assert.ok(events.some((e) => e.type === 'retry' && e.path === 'onnx/vision_model.onnx'));
    assert.ok(events.some((e) => e.type === 'file-start' && e.path === 'onnx/vision_model.onnx' && e.resumeFrom === from));
  });

  it('resumes a partial left by an earlier, killed pull', async () => {
    const dir = path.join(cacheDir, 'tiny-clip');
    mkdirSync(path.join(dir, 'onnx'), { recursive: true });
    const body = hub.files.get('onnx/text_model.onnx')!.body;
    writeFileSync(path.join(dir, 'onnx/text_model.onnx.partial'), body.subarray(0, 123_456));
    const events: PullEvent[] = [];
    await pullModel(hfEntry(), { cacheDir, hubUrl: hub.url, variant: 'fp32', onProgress: (e) => events.push(e), ...FAST });
    assert.deepEqual(readFileSync(path.join(dir, 'onnx/text_model.onnx')), body);
    assert.ok(hub.downloads('onnx/text_model.onnx').some((s) => s.range === 'bytes=123456-'));
    const plan = events.find((e) => e.type === 'plan');
    assert.ok(plan?.type === 'plan' && plan.files.find((f) => f.path === 'onnx/text_model.onnx')?.state === 'partial');
  });

  it('renames a partial that already holds the whole file without fetching it again', async () => {
    const dir = path.join(cacheDir, 'tiny-clip');
    mkdirSync(path.join(dir, 'onnx'), { recursive: true });
    const body = hub.files.get('onnx/vision_model.onnx')!.body;
    writeFileSync(path.join(dir, 'onnx/vision_model.onnx.partial'), body);
    await pullModel(hfEntry(), { cacheDir, hubUrl: hub.url, variant: 'fp32', ...FAST });
    assert.equal(hub.downloads('onnx/vision_model.onnx').length, 0);
    assert.deepEqual(readFileSync(path.join(dir, 'onnx/vision_model.onnx')), body);
    assert.ok(!existsSync(path.join(dir, 'onnx/vision_model.onnx.partial')));
  });

  it('refuses a second pull into the same folder while one runs', async () => {
    hub.faults.stallOnce.add('onnx/vision_model.onnx');
    // The second pull starts once the first has said something, i.e. holds the lock: two calls
    // started together race for it through their async mkdir, and either may win.
    let started!: () => void;
    const holding = new Promise<void>((resolve) => (started = resolve));
    const first = pullModel(hfEntry(), { cacheDir, hubUrl: hub.url, variant: 'fp32', ...FAST, stallTimeoutMs: 300, onProgress: () => started() });
    await holding;
    await assert.rejects(
      pullModel(hfEntry(), { cacheDir, hubUrl: hub.url, variant: 'fp32', ...FAST }),
      (err: unknown) => err instanceof ModelPullError && err.reason === 'locked' && /another `reprise models pull` \(pid \d+\) is downloading into/.test(err.message),
    );
    await first;
  });

  it('starts over when the server ignores Range and answers 200', async () => {
    hub.faults.ignoreRange = true;
    const dir = path.join(cacheDir, 'tiny-clip');
    mkdirSync(path.join(dir, 'onnx'), { recursive: true });
    const body = hub.files.get('onnx/text_model.onnx')!.body;
    writeFileSync(path.join(dir, 'onnx/text_model.onnx.partial'), body.subarray(0, 50_000));
    await pullModel(hfEntry(), { cacheDir, hubUrl: hub.url, variant: 'fp32', ...FAST });
    assert.deepEqual(readFileSync(path.join(dir, 'onnx/text_model.onnx')), body);
  });

  it('drops a stalled transfer after the stall timeout and resumes it', async () => {
    hub.faults.stallOnce.add('onnx/text_model.onnx');
    const dir = await pullModel(hfEntry(), { cacheDir, hubUrl: hub.url, variant: 'fp32', ...FAST, stallTimeoutMs: 300 });
    assert.deepEqual(readFileSync(path.join(dir, 'onnx/text_model.onnx')), hub.files.get('onnx/text_model.onnx')!.body);
    assert.ok(hub.downloads('onnx/text_model.onnx').some((s) => s.range));
  });

  it('a checksum mismatch deletes the download and says so', async () => {
    hub.faults.corrupt.add('onnx/vision_model.onnx');
    const dir = path.join(cacheDir, 'tiny-clip');
    await assert.rejects(
      pullModel(hfEntry(), { cacheDir, hubUrl: hub.url, variant: 'fp32', ...FAST }),
      (err: unknown) => {
        assert.ok(err instanceof ModelPullError);
        assert.equal(err.reason, 'checksum');
        assert.equal(err.file, 'onnx/vision_model.onnx');
        assert.match(err.message, /onnx\/vision_model\.onnx failed its checksum \(sha256 [0-9a-f]{64}, expected [0-9a-f]{64}\); the download was deleted/);
        return true;
      },
    );
    assert.ok(!existsSync(path.join(dir, 'onnx/vision_model.onnx')));
    assert.ok(!existsSync(path.join(dir, 'onnx/vision_model.onnx.partial')));
    assert.ok(!existsSync(path.join(dir, 'reprise-model.json')), 'no manifest for an incomplete pull');
  });

  it('a corrupted non-LFS file fails on its git blob id', async () => {
    hub.faults.corrupt.add('tokenizer.json');
    await assert.rejects(pullModel(hfEntry(), { cacheDir, hubUrl: hub.url, variant: 'fp32', ...FAST }), /tokenizer\.json failed its checksum \(git blob id/);
  });

  it('a partial from an older revision that fails after resuming is deleted and fetched again from the start', async () => {
    const dir = path.join(cacheDir, 'tiny-clip');
    mkdirSync(path.join(dir, 'onnx'), { recursive: true });
    writeFileSync(path.join(dir, 'onnx/text_model.onnx.partial'), randomBytes(100_000));
    await pullModel(hfEntry(), { cacheDir, hubUrl: hub.url, variant: 'fp32', ...FAST });
    assert.deepEqual(readFileSync(path.join(dir, 'onnx/text_model.onnx')), hub.files.get('onnx/text_model.onnx')!.body);
    const seen = hub.downloads('onnx/text_model.onnx').filter((s) => s.url.startsWith('/cdn/'));
    assert.equal(seen[0]!.range, 'bytes=100000-');
    assert.equal(seen.at(-1)!.range, undefined);
  });

  it('pulls a second variant into the same folder and keeps both in the manifest', async () => {
    await pullModel(hfEntry(), { cacheDir, hubUrl: hub.url, variant: 'fp32', ...FAST });
    const dir = await pullModel(hfEntry(), { cacheDir, hubUrl: hub.url, variant: 'quantized', ...FAST });
    const manifest = JSON.parse(readFileSync(path.join(dir, 'reprise-model.json'), 'utf8')) as PullManifest;
    assert.deepEqual(manifest.variants, ['fp32', 'quantized']);
    assert.ok(manifest.files.some((f) => f.path === 'onnx/vision_model.onnx'));
    assert.ok(manifest.files.some((f) => f.path === 'onnx/vision_model_quantized.onnx'));
  });

  it('follows the paged tree listing', async () => {
    hub.faults.paginate = true;
    const dir = await pullModel(hfEntry(), { cacheDir, hubUrl: hub.url, variant: 'fp32', ...FAST });
    assert.ok(statSync(path.join(dir, 'onnx/text_model.onnx')).isFile());
    assert.ok(hub.seen.some((s) => s.url.includes('cursor=')));
  });

  it('fetches every file of an OpenCLIP weight folder (external data) but not other runtimes or subfolders', async () => {
    const openclip = new FakeHub('immich-test/ViT-T');
    openclip.add('config.json', JSON.stringify({ embed_dim: 8 }));
    openclip.add('visual/preprocess_cfg.json', JSON.stringify({ size: 32 }));
    openclip.add('visual/model.onnx', randomBytes(5000));
    openclip.add('visual/2202c01a-47f5-11ef-ab4b-00155d655292', randomBytes(40_000));
    openclip.add('visual/model.armnn', randomBytes(1000));
    openclip.add('visual/fp16/model.armnn', randomBytes(1000));
    openclip.add('textual/model.onnx', randomBytes(5000));
    openclip.add('textual/transformer.encoder.layer.0.weight', randomBytes(30_000));
    openclip.add('textual/tokenizer.json', '{}');
    openclip.add('textual/tokenizer_config.json', '{}');
    await openclip.start();
    try {
      const entry = hfEntry({
        name: 'vit-t',
        repo: 'immich-test/ViT-T',
        layout: 'openclip',
        commonFiles: ['config.json', 'visual/preprocess_cfg.json', 'textual/tokenizer.json', 'textual/tokenizer_config.json'],
        variantFiles: { fp32: ['visual/model.onnx', 'textual/model.onnx'] },
        weightFolders: ['visual', 'textual'],
      });
      const dir = await pullModel(entry, { cacheDir, hubUrl: openclip.url, variant: 'fp32', ...FAST });
      assert.ok(existsSync(path.join(dir, 'visual/2202c01a-47f5-11ef-ab4b-00155d655292')));
      assert.ok(existsSync(path.join(dir, 'textual/transformer.encoder.layer.0.weight')));
      assert.ok(!existsSync(path.join(dir, 'visual/model.armnn')));
      assert.ok(!existsSync(path.join(dir, 'visual/fp16')));
    } finally {
      await openclip.stop();
    }
  });

  it('names a file the repository no longer has', async () => {
    hub.files.delete('onnx/text_model.onnx');
    await assert.rejects(pullModel(hfEntry(), { cacheDir, hubUrl: hub.url, variant: 'fp32', ...FAST }), (err: unknown) => {
      assert.ok(err instanceof ModelPullError);
      assert.equal(err.reason, 'not-found');
      assert.match(err.message, /test-org\/tiny-clip at revision main \(commit c0ffee0{34}\) has no onnx\/text_model\.onnx \(its ONNX files: .*onnx\/model\.onnx/);
      return true;
    });
  });

  it('refuses a variant the entry does not offer', async () => {
    await assert.rejects(pullModel(hfEntry(), { cacheDir, hubUrl: hub.url, variant: 'fp16', ...FAST }), /tiny-clip has no fp16 variant; it offers fp32, quantized/);
  });

  it('offline (nothing listening): says which files to place by hand, where, and about REPRISE_MODELS__PATH', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const retries: PullEvent[] = [];
    await assert.rejects(
      pullModel(hfEntry(), { cacheDir, hubUrl: `http://127.0.0.1:${port}`, variant: 'fp32', ...FAST, retries: 1, onProgress: (e) => retries.push(e) }),
      (err: unknown) => {
        assert.ok(err instanceof ModelPullError);
        assert.equal(err.reason, 'offline');
        assert.match(err.message, /cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED/);
        assert.match(err.message, /tried 2 times/);
        for (const f of ['config.json', 'preprocessor_config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/vision_model.onnx', 'onnx/text_model.onnx']) {
          assert.ok(err.message.includes(`\n  ${f}\n`), f);
        }
        assert.ok(err.message.includes(`\n  ${path.join(cacheDir, 'tiny-clip')}\n`));
        assert.match(err.message, /Hugging Face \/ transformers\.js layout/);
        assert.match(err.message, /REPRISE_MODELS__PATH=/);
        assert.match(err.message, /reprise models check --path/);
        return true;
      },
    );
    assert.equal(retries.filter((e) => e.type === 'retry').length, 1);
  });

  it('a response that never comes counts as offline after the response timeout', async () => {
    const silent = http.createServer(() => {
      /* accept and never answer */
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      await assert.rejects(
        pullModel(hfEntry(), { cacheDir, hubUrl: url, variant: 'fp32', ...FAST, retries: 0, responseTimeoutMs: 200 }),
        (err: unknown) => err instanceof ModelPullError && err.reason === 'offline' && /no response from 127\.0\.0\.1:\d+ within 200 ms/.test(err.message),
      );
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('an aborted pull keeps the partial and says the next pull resumes it', async () => {
    hub.faults.stallOnce.add('onnx/vision_model.onnx');
    const controller = new AbortController();
    const pulling = pullModel(hfEntry(), {
      cacheDir,
      hubUrl: hub.url,
      variant: 'fp32',
      ...FAST,
      signal: controller.signal,
      onProgress: (e) => {
        if (e.type === 'progress' && e.path === 'onnx/vision_model.onnx' && e.fileBytes >= 100_000) controller.abort();
      },
    });
    await assert.rejects(pulling, (err: unknown) => err instanceof ModelPullError && err.reason === 'aborted' && /next pull resumes it/.test(err.message));
    assert.ok(statSync(path.join(cacheDir, 'tiny-clip', 'onnx/vision_model.onnx.partial')).size >= 100_000);
    assert.ok(!existsSync(path.join(cacheDir, 'tiny-clip', '.reprise-pull.lock')), 'the lock is released');
  });

  it('hand-placement help lists weight folders for OpenCLIP entries', () => {
    const help = handPlacementHelp(
      hfEntry({ layout: 'openclip', commonFiles: ['config.json'], variantFiles: { fp32: ['visual/model.onnx', 'textual/model.onnx'] }, weightFolders: ['visual', 'textual'] }),
      '/srv/models/x',
      'fp32',
    );
    assert.match(help, /every other file directly inside visual\/ and textual\//);
    assert.match(help, /OpenCLIP \/ Immich layout/);
  });
});
