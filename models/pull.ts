import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LAYOUT_HELP, MANIFEST_FILE } from './layout.ts';
import { isPinned, variantsOf, type ModelVariant, type RegistryEntry } from './registry.ts';
import { acquireLock, backoffDelayMs, LockHeldError, parseRetryAfter, RepriseError, sleep } from '../common/index.ts';

export interface PullOptions {
  /** Models live in `{cacheDir}/{entry.name}`. */
  cacheDir: string;
  /** https://huggingface.co, or a mirror speaking the same API. */
  hubUrl: string;
  variant: ModelVariant;
  fetch?: typeof fetch;
  onProgress?: (event: PullEvent) => void;
  signal?: AbortSignal;
  /** Hugging Face access token, for gated or private repositories. Sent to the hub only, never to the CDN it redirects to. */
  token?: string;
  /** Retries after the first attempt, per request (default 4). */
  retries?: number;
  /** Backoff base: retry n waits a random time up to base × 2ⁿ (common/retry.ts, default 1000). */
  retryBaseDelayMs?: number;
  /** From sending a request to its response headers, connecting included (default 30000). */
  responseTimeoutMs?: number;
  /** Longest wait for the next bytes of a download before it is dropped and resumed (default 60000). */
  stallTimeoutMs?: number;
}

export type PullEvent =
  | { type: 'plan'; name: string; repo: string; revision: string; commit: string; files: Array<{ path: string; size: number; state: 'complete' | 'partial' | 'missing' }>; totalBytes: number; presentBytes: number }
  | { type: 'file-start'; path: string; size: number; resumeFrom: number }
  | { type: 'progress'; path: string; fileBytes: number; fileSize: number; doneBytes: number; totalBytes: number }
  | { type: 'file-done'; path: string; size: number; sha256: string; skipped: boolean }
  | { type: 'retry'; path?: string; attempt: number; delayMs: number; reason: string }
  | { type: 'done'; dir: string; manifest: string };

export type PullFailure = 'offline' | 'checksum' | 'http' | 'not-found' | 'locked' | 'aborted' | 'variant';

export class ModelPullError extends RepriseError {
  override name = 'ModelPullError';
  constructor(
    message: string,
    readonly reason: PullFailure,
    readonly file?: string,
  ) {
    super(message);
  }
}

export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
  /** Git blob id the hub lists for files stored without LFS (configs, tokenizers). */
  gitOid?: string;
}

export interface PullManifest {
  name: string;
  repo: string;
  /** What the registry entry names: a commit id, or a branch for the entries not pinned yet. */
  revision: string;
  /**
   * The full commit id every file was listed and fetched at. For a pinned entry the revision
   * itself; for a branch, the commit it pointed to when the pull began. Manifests written
   * before pulls recorded it may lack it.
   */
  commit?: string;
  layout: RegistryEntry['layout'];
  variants: ModelVariant[];
  files: ManifestFile[];
  pulledAt: string;
}

/** Where `pullModel` puts a model; `models.path` overrides it for folders placed by hand. */
export function pulledModelDir(cacheDir: string, name: string): string {
  return path.resolve(cacheDir, name);
}

/** The pull cache: `models.cacheDir`, else `{dataDir}/models`. */
export function modelsCacheDir(models: { cacheDir?: string }, dataDir: string): string {
  return path.resolve(models.cacheDir ?? path.join(dataDir, 'models'));
}

/** One file as the hub's tree API lists it. */
interface RemoteFile {
  path: string;
  size: number;
  /** LFS files: the sha256 of the content. */
  sha256?: string;
  /** Plain git files: the blob's sha1 over "blob {size}\0" + content. */
  gitOid?: string;
}

interface Ctx {
  entry: RegistryEntry;
  dir: string;
  hub: string;
  variant: ModelVariant;
  fetch: typeof fetch;
  emit: (e: PullEvent) => void;
  signal?: AbortSignal;
  token?: string;
  retries: number;
  retryBaseDelayMs: number;
  responseTimeoutMs: number;
  stallTimeoutMs: number;
  /** The full commit id listed and fetched: the entry's revision when pinned, else what its branch resolved to. */
  commit: string;
}

/**
 * Downloads a registry model into `{cacheDir}/{name}`: each file is checked against the size
 * and checksum the hub lists for the revision, fetched into `{file}.partial` (resumed with a
 * Range request after an interruption) and renamed into place only once it verifies. Files
 * already complete are not fetched again. Returns the model folder.
 */
export async function pullModel(entry: RegistryEntry, opts: PullOptions): Promise<string> {
  const offered = variantsOf(entry);
  if (!offered.includes(opts.variant)) {
    throw new ModelPullError(`${entry.name} has no ${opts.variant} variant; it offers ${offered.join(', ')}`, 'variant');
  }
  const dir = pulledModelDir(opts.cacheDir, entry.name);
  await mkdir(dir, { recursive: true });
  const lockFile = path.join(dir, '.reprise-pull.lock');
  let release: () => void;
  try {
    release = acquireLock(lockFile);
  } catch (err) {
    if (err instanceof LockHeldError) {
      throw new ModelPullError(
        `another \`reprise models pull\` (pid ${err.pid}) is downloading into ${dir}; wait for it to finish, or remove ${lockFile} if no such process exists`,
        'locked',
      );
    }
    throw err;
  }
  const ctx: Ctx = {
    entry,
    dir,
    hub: opts.hubUrl.replace(/\/+$/, ''),
    variant: opts.variant,
    fetch: opts.fetch ?? globalThis.fetch,
    emit: opts.onProgress ?? (() => {}),
    signal: opts.signal,
    token: opts.token,
    retries: opts.retries ?? 4,
    retryBaseDelayMs: opts.retryBaseDelayMs ?? 1000,
    responseTimeoutMs: opts.responseTimeoutMs ?? 30_000,
    stallTimeoutMs: opts.stallTimeoutMs ?? 60_000,
    commit: isPinned(entry) ? entry.revision.toLowerCase() : '',
  };
  try {
    if (!ctx.commit) ctx.commit = await withRetries(ctx, undefined, () => resolveCommit(ctx));
    return await pullInto(ctx);
  } catch (err) {
    throw asPullError(ctx, err);
  } finally {
    release();
  }
}

async function pullInto(ctx: Ctx): Promise<string> {
  const { entry, dir } = ctx;
  const read = await readManifest(dir);
  // What an earlier pull of another commit left is not this model: its files and variants are not carried over.
  const previous = read && read.repo === entry.repo && (read.commit ?? read.revision) === ctx.commit ? read : undefined;
  const remote = await listWanted(ctx);

  // Decide what is already here before fetching anything, so the plan (and the bar) is exact.
  const known = new Map((previous?.files ?? []).map((f) => [f.path, f]));
  const done: ManifestFile[] = [];
  const todo: RemoteFile[] = [];
  const plan: Extract<PullEvent, { type: 'plan' }>['files'] = [];
  let presentBytes = 0;
  for (const file of remote) {
    const complete = await verifiedInPlace(ctx, file, known.get(file.path));
    if (complete) {
      done.push(complete);
      plan.push({ path: file.path, size: file.size, state: 'complete' });
      presentBytes += file.size;
      continue;
    }
    const partial = (await statOrNull(localPath(dir, file.path) + '.partial'))?.size ?? 0;
    const usable = partial <= file.size ? partial : 0;
    plan.push({ path: file.path, size: file.size, state: usable ? 'partial' : 'missing' });
    presentBytes += usable;
    todo.push(file);
  }
  const totalBytes = remote.reduce((n, f) => n + f.size, 0);
  ctx.emit({ type: 'plan', name: entry.name, repo: entry.repo, revision: entry.revision, commit: ctx.commit, files: plan, totalBytes, presentBytes });
  for (const f of done) ctx.emit({ type: 'file-done', path: f.path, size: f.size, sha256: f.sha256, skipped: true });

  let completedBytes = done.reduce((n, f) => n + f.size, 0);
  for (const file of todo) {
    const result = await withRetries(ctx, file.path, () =>
      downloadOnce(ctx, file, (fileBytes) =>
        ctx.emit({ type: 'progress', path: file.path, fileBytes, fileSize: file.size, doneBytes: completedBytes + fileBytes, totalBytes }),
      ),
    );
    completedBytes += file.size;
    done.push(result);
    ctx.emit({ type: 'file-done', path: file.path, size: file.size, sha256: result.sha256, skipped: false });
  }

  // Keep what an earlier pull of another variant left, so one folder can hold several.
  const files = new Map((previous?.files ?? []).map((f) => [f.path, f]));
  for (const f of done) files.set(f.path, f);
  const manifest: PullManifest = {
    name: entry.name,
    repo: entry.repo,
    revision: entry.revision,
    commit: ctx.commit,
    layout: entry.layout,
    variants: [...new Set([...(previous?.variants ?? []), ctx.variant])],
    files: [...files.values()].sort((a, b) => a.path.localeCompare(b.path)),
    pulledAt: new Date().toISOString(),
  };
  const manifestPath = path.join(dir, MANIFEST_FILE);
  await writeFile(`${manifestPath}.tmp`, JSON.stringify(manifest, null, 2) + '\n');
  await rename(`${manifestPath}.tmp`, manifestPath);
  ctx.emit({ type: 'done', dir, manifest: manifestPath });
  return dir;
}

/**
 * The full commit an unpinned entry's branch points to now. Everything is then listed and
 * fetched at that commit, so that a branch moving during the pull cannot mix two uploads, and
 * the commit goes into the manifest and the model id. A hub that does not say is refused: a
 * model recorded as "main" would pass for any later upload of the same name.
 */
async function resolveCommit(ctx: Ctx): Promise<string> {
  const { entry } = ctx;
  const url = `${ctx.hub}/api/models/${repoPath(entry.repo)}/revision/${encodeURIComponent(entry.revision)}`;
  const { res, done } = await request(ctx, url, { accept: 'application/json' });
  try {
    if (res.status === 404) {
      throw new ModelPullError(`${ctx.hub} has no ${entry.repo} at revision ${entry.revision} (404): the repository or branch does not exist`, 'not-found');
    }
    checkStatus(ctx, res, `revision ${entry.revision}`);
    let sha: unknown;
    try {
      sha = (JSON.parse(await res.text()) as { sha?: unknown } | null)?.sha;
    } catch {
      /* the header may still say */
    }
    const commit = [sha, res.headers.get('x-repo-commit')].find((c): c is string => typeof c === 'string' && /^[0-9a-f]{40}$/i.test(c));
    if (!commit) {
      throw new ModelPullError(
        `${ctx.hub} did not say which commit ${entry.repo}@${entry.revision} is at (no "sha" in ${url}, no X-Repo-Commit header). ` +
          `Reprise records the commit in the model id so that a re-upload is not mistaken for this model, and pulls an unpinned model only when it is known; ` +
          `use a hub or mirror that answers the model-info API, or place the folder by hand and set models.path`,
        'http',
      );
    }
    return commit.toLowerCase();
  } finally {
    done();
  }
}

/** The revision as messages name it: a branch with the commit it resolved to. */
function revisionLabel(ctx: Ctx): string {
  return ctx.commit === ctx.entry.revision.toLowerCase() ? ctx.entry.revision : `${ctx.entry.revision} (commit ${ctx.commit})`;
}

/** The files this entry and variant need, with sizes and checksums as the hub lists them at this revision. */
async function listWanted(ctx: Ctx): Promise<RemoteFile[]> {
  const { entry, variant } = ctx;
  const wanted = [...entry.commonFiles, ...(entry.variantFiles[variant] ?? [])];
  const folders = new Set([...wanted.map((f) => path.posix.dirname(f)), ...(entry.weightFolders ?? [])].map((d) => (d === '.' ? '' : d)));
  const listed = new Map<string, RemoteFile>();
  for (const folder of [...folders].sort()) {
    for (const f of await withRetries(ctx, undefined, () => listFolder(ctx, folder))) listed.set(f.path, f);
  }
  const out = new Map<string, RemoteFile>();
  for (const want of wanted) {
    const f = listed.get(want);
    if (!f) {
      const onnx = [...listed.keys()].filter((p) => p.endsWith('.onnx'));
      throw new ModelPullError(
        `${entry.repo} at revision ${revisionLabel(ctx)} has no ${want}` +
          (onnx.length ? ` (its ONNX files: ${onnx.join(', ')})` : '') +
          `; the repository changed since Reprise's model list was written: place a folder by hand and set models.path, or choose another model`,
        'not-found',
        want,
      );
    }
    out.set(want, f);
  }
  // Weight folders: every file directly inside, except other variants' towers and non-ONNX runtimes' files.
  const otherTowers = new Set(Object.entries(entry.variantFiles).flatMap(([v, files]) => (v === variant ? [] : files ?? [])));
  for (const folder of entry.weightFolders ?? []) {
    for (const f of listed.values()) {
      if (path.posix.dirname(f.path) !== folder || out.has(f.path) || otherTowers.has(f.path)) continue;
      if (/\.(armnn|rknn)$/i.test(f.path) || /(^|\/)\.git/.test(f.path) || /\.md$/i.test(f.path)) continue;
      out.set(f.path, f);
    }
  }
  return [...out.values()];
}

async function listFolder(ctx: Ctx, folder: string): Promise<RemoteFile[]> {
  const files: RemoteFile[] = [];
  let url: string | undefined =
    `${ctx.hub}/api/models/${repoPath(ctx.entry.repo)}/tree/${ctx.commit}` + (folder ? `/${encodePath(folder)}` : '');
  while (url) {
    const { res, done } = await request(ctx, url, { accept: 'application/json' });
    try {
      if (res.status === 404) {
        throw new ModelPullError(
          `${ctx.hub} has no ${folder ? `folder ${folder} in ` : ''}${ctx.entry.repo} at revision ${revisionLabel(ctx)} (404): the repository, revision or folder does not exist`,
          'not-found',
        );
      }
      checkStatus(ctx, res, folder || '/');
      const text = await res.text();
      let entries: unknown;
      try {
        entries = JSON.parse(text);
      } catch {
        throw new TransientError(`the hub's file list for ${folder || '/'} is not JSON`);
      }
      if (!Array.isArray(entries)) throw new TransientError(`the hub's file list for ${folder || '/'} is not a list`);
      for (const e of entries as Array<Record<string, unknown>>) {
        if (e?.type !== 'file' || typeof e.path !== 'string' || typeof e.size !== 'number') continue;
        if (!safeRelative(e.path)) continue;
        const lfs = e.lfs as { oid?: unknown; size?: unknown } | undefined;
        const sha256 = typeof lfs?.oid === 'string' && /^[0-9a-f]{64}$/i.test(lfs.oid) ? lfs.oid.toLowerCase() : undefined;
        const size = sha256 && typeof lfs?.size === 'number' ? lfs.size : e.size;
        const gitOid = !sha256 && typeof e.oid === 'string' && /^[0-9a-f]{40}$/i.test(e.oid) ? e.oid.toLowerCase() : undefined;
        files.push({ path: e.path, size, ...(sha256 ? { sha256 } : {}), ...(gitOid ? { gitOid } : {}) });
      }
      url = nextLink(res.headers.get('link'), url);
    } finally {
      done();
    }
  }
  return files;
}

/** A file already in place that matches the hub's listing: trusted from the manifest when it agrees, else hashed. */
async function verifiedInPlace(ctx: Ctx, file: RemoteFile, known: ManifestFile | undefined): Promise<ManifestFile | undefined> {
  const target = localPath(ctx.dir, file.path);
  const st = await statOrNull(target);
  if (!st?.isFile()) return undefined;
  if (st.size !== file.size) {
    await rm(target, { force: true });
    return undefined;
  }
  if (known && known.size === file.size && ((file.sha256 && known.sha256 === file.sha256) || (file.gitOid && known.gitOid === file.gitOid))) {
    return known;
  }
  const hashes = new Hashes(file);
  for await (const chunk of createReadStream(target)) hashes.update(chunk as Buffer);
  if (hashes.matches(file)) return manifestEntry(file, hashes);
  await rm(target, { force: true });
  return undefined;
}

async function downloadOnce(ctx: Ctx, file: RemoteFile, progress: (fileBytes: number) => void): Promise<ManifestFile> {
  const target = localPath(ctx.dir, file.path);
  const partial = `${target}.partial`;
  await mkdir(path.dirname(target), { recursive: true });
  let have = (await statOrNull(partial))?.size ?? 0;
  if (have > file.size) {
    await rm(partial, { force: true });
    have = 0;
  }
  // Hash what is already here before asking for the rest, so the connection never waits on the disk.
  let hashes = new Hashes(file);
  if (have > 0) for await (const chunk of createReadStream(partial)) hashes.update(chunk as Buffer);
  let resumed = have > 0;

  if (have < file.size || file.size === 0) {
    const url = `${ctx.hub}/${repoPath(ctx.entry.repo)}/resolve/${ctx.commit}/${encodePath(file.path)}`;
    const { res, done, watchdog, signal } = await request(ctx, url, have > 0 ? { range: `bytes=${have}-` } : {});
    try {
      if (res.status === 416) {
        await rm(partial, { force: true });
        throw new TransientError(`the server refused to resume ${file.path} at byte ${have}; starting over`);
      }
      if (res.status === 404) throw new ModelPullError(`${file.path} is not in ${ctx.entry.repo} at revision ${revisionLabel(ctx)} (404)`, 'not-found', file.path);
      checkStatus(ctx, res, file.path);
      if (res.status === 206) {
        const range = parseContentRange(res.headers.get('content-range'));
        if (!range || range.start !== have) {
          await rm(partial, { force: true });
          throw new TransientError(`the server answered the resume of ${file.path} with another range (${res.headers.get('content-range')}); starting over`);
        }
      } else if (have > 0) {
        // A 200 to a ranged request: the server ignored Range and sends the whole file.
        have = 0;
        resumed = false;
        hashes = new Hashes(file);
      }
      ctx.emit({ type: 'file-start', path: file.path, size: file.size, resumeFrom: have });

      const fh = await open(partial, have > 0 ? 'a' : 'w');
      let received = have;
      try {
        if (res.body) {
          watchdog.arm(ctx.stallTimeoutMs, `no data for ${ctx.stallTimeoutMs} ms while downloading ${file.path}`);
          for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
            watchdog.arm(ctx.stallTimeoutMs, `no data for ${ctx.stallTimeoutMs} ms while downloading ${file.path}`);
            if (received + chunk.byteLength > file.size) {
              throw new ChecksumError(`${file.path}: the server sent more than the ${file.size} bytes the hub lists`);
            }
            await fh.write(chunk);
            hashes.update(chunk);
            received += chunk.byteLength;
            progress(received);
          }
        }
        watchdog.clear();
        await fh.sync();
      } finally {
        await fh.close();
      }
      if (received < file.size) throw new TransientError(`the transfer of ${file.path} ended at ${received} of ${file.size} bytes`);
    } catch (err) {
      if (err instanceof ChecksumError) await rm(partial, { force: true });
      // A stalled body is aborted by the watchdog; what the stream throws then is less telling than why.
      if (signal.aborted && !ctx.signal?.aborted && signal.reason instanceof NetworkError) throw signal.reason;
      throw err;
    } finally {
      done();
    }
  } else {
    // The whole file is already in the partial (killed between the last byte and the rename).
    ctx.emit({ type: 'file-start', path: file.path, size: file.size, resumeFrom: have });
    progress(have);
  }

  if (!hashes.matches(file)) {
    await rm(partial, { force: true });
    // A partial from an earlier pull may belong to an older revision: one fresh try before giving up.
    if (resumed) throw new TransientError(`${file.path} did not verify after resuming an earlier partial download; the partial was deleted, starting over`);
    const what = file.sha256 ? `sha256 ${hashes.sha256()}, expected ${file.sha256}` : `git blob id ${hashes.gitOid()}, expected ${file.gitOid}`;
    throw new ModelPullError(
      `${file.path} failed its checksum (${what}); the download was deleted. Run the pull again; if it fails again the hub or a proxy is serving a damaged file.`,
      'checksum',
      file.path,
    );
  }
  await rename(partial, target);
  return manifestEntry(file, hashes);
}

class Hashes {
  private readonly sha = createHash('sha256');
  private readonly git?: Hash;
  constructor(file: RemoteFile) {
    if (file.gitOid) {
      this.git = createHash('sha1');
      this.git.update(`blob ${file.size}\0`);
    }
  }
  update(chunk: Uint8Array): void {
    this.sha.update(chunk);
    this.git?.update(chunk);
  }
  private shaHex?: string;
  private gitHex?: string;
  sha256(): string {
    return (this.shaHex ??= this.sha.digest('hex'));
  }
  gitOid(): string | undefined {
    return this.git ? (this.gitHex ??= this.git.digest('hex')) : undefined;
  }
  /** LFS files by sha256; plain git files by blob id; a file with neither is trusted on its size alone. */
  matches(file: RemoteFile): boolean {
    if (file.sha256) return this.sha256() === file.sha256;
    if (file.gitOid) return this.gitOid() === file.gitOid;
    return true;
  }
}

function manifestEntry(file: RemoteFile, hashes: Hashes): ManifestFile {
  return { path: file.path, size: file.size, sha256: hashes.sha256(), ...(file.gitOid ? { gitOid: file.gitOid } : {}) };
}

// ---------------------------------------------------------------------------------------------
// HTTP: one request with bounded waits, redirects followed by hand so the token stays on the hub.

class TransientError extends RepriseError {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** Could not reach the hub at all: DNS, refused connection, timeouts. */
class NetworkError extends TransientError {
  constructor(
    message: string,
    readonly code: string,
    readonly permanent = false,
  ) {
    super(message);
  }
}

class ChecksumError extends RepriseError {}

class Watchdog {
  private timer?: NodeJS.Timeout;
  constructor(private readonly ac: AbortController) {}
  arm(ms: number, message: string): void {
    this.clear();
    this.timer = setTimeout(() => this.ac.abort(new NetworkError(message, 'ETIMEDOUT')), ms);
    this.timer.unref?.();
  }
  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

const MAX_REDIRECTS = 10;

interface Opened {
  res: Response;
  /** Aborts the body too: the watchdog re-armed while reading drops a stalled transfer. */
  watchdog: Watchdog;
  signal: AbortSignal;
  done: () => void;
}

async function request(ctx: Ctx, url: string, extra: Record<string, string>): Promise<Opened> {
  const ac = new AbortController();
  const onAbort = () => ac.abort(ctx.signal?.reason ?? new Error('aborted'));
  if (ctx.signal?.aborted) onAbort();
  ctx.signal?.addEventListener('abort', onAbort, { once: true });
  const watchdog = new Watchdog(ac);
  const done = () => {
    watchdog.clear();
    ctx.signal?.removeEventListener('abort', onAbort);
  };
  const hubOrigin = new URL(ctx.hub).origin;
  let current = url;
  try {
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { 'user-agent': 'Reprise/0.1 (reprise models pull)', ...extra };
      if (ctx.token && new URL(current).origin === hubOrigin) headers.authorization = `Bearer ${ctx.token}`;
      watchdog.arm(ctx.responseTimeoutMs, `no response from ${new URL(current).host} within ${ctx.responseTimeoutMs} ms`);
      let res: Response;
      try {
        res = await ctx.fetch(current, { headers, redirect: 'manual', signal: ac.signal });
      } catch (err) {
        throw ac.signal.aborted ? ac.signal.reason : networkError(err, current);
      }
      if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
        await res.body?.cancel().catch(() => {});
        if (hop >= MAX_REDIRECTS) throw new ModelPullError(`more than ${MAX_REDIRECTS} redirects fetching ${url}`, 'http');
        current = new URL(res.headers.get('location')!, current).toString();
        continue;
      }
      watchdog.clear();
      return { res, done, watchdog, signal: ac.signal };
    }
  } catch (err) {
    done();
    throw err;
  }
}

function networkError(err: unknown, url: string): NetworkError {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  const code = cause?.code ?? (err as { code?: string })?.code ?? 'ENETWORK';
  const host = safeHost(url);
  const detail = cause?.message ?? (err as Error)?.message ?? String(err);
  // A name that does not resolve will not resolve on a retry seconds later either.
  return new NetworkError(`cannot reach ${host} (${code}: ${detail})`, code, code === 'ENOTFOUND');
}

function checkStatus(ctx: Ctx, res: Response, what: string): void {
  if (res.ok) return;
  const status = res.status;
  void res.body?.cancel().catch(() => {});
  if (status === 401 || status === 403) {
    throw new ModelPullError(
      `the hub refused ${what} of ${ctx.entry.repo} (${status}): the repository may be gated or private; accept its terms on ${ctx.hub}/${ctx.entry.repo} and set HF_TOKEN`,
      'http',
      what,
    );
  }
  if (status === 429 || status >= 500) throw new TransientError(`the hub answered ${status} for ${what}`, parseRetryAfter(res.headers.get('retry-after') ?? undefined));
  throw new ModelPullError(`the hub answered ${status} for ${what} of ${ctx.entry.repo}`, 'http', what);
}

async function withRetries<T>(ctx: Ctx, file: string | undefined, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (ctx.signal?.aborted) throw err;
      const transient = err instanceof TransientError && !(err instanceof NetworkError && err.permanent);
      // Errors thrown by a body stream that broke (socket closed mid-transfer) are transient too.
      const broken = !(err instanceof ModelPullError) && !(err instanceof TransientError) && !(err instanceof ChecksumError) && isStreamBreak(err);
      if ((!transient && !broken) || attempt > ctx.retries) throw err;
      // The policy every client of Reprise retries by (common/retry.ts); a hub's Retry-After is obeyed up to two minutes.
      const backoff = backoffDelayMs(attempt - 1, { retries: ctx.retries, baseDelayMs: ctx.retryBaseDelayMs, maxDelayMs: 60_000 });
      const delayMs = Math.min(120_000, (err as TransientError).retryAfterMs ?? backoff);
      ctx.emit({ type: 'retry', ...(file ? { path: file } : {}), attempt, delayMs, reason: (err as Error).message });
      await sleep(delayMs, ctx.signal);
    }
  }
}

function isStreamBreak(err: unknown): boolean {
  const e = err as { name?: string; message?: string; code?: string; cause?: { code?: string } };
  return /terminated|other side closed|UND_ERR_SOCKET|ECONNRESET|EPIPE/i.test(`${e?.message} ${e?.code} ${e?.cause?.code}`);
}

/** Every failure leaves as a ModelPullError; an unreachable hub says how to do without it. */
function asPullError(ctx: Ctx, err: unknown): ModelPullError {
  if (err instanceof ModelPullError) return err;
  if (ctx.signal?.aborted) {
    return new ModelPullError(`pull of ${ctx.entry.name} interrupted; what was downloaded is kept in ${ctx.dir} and the next pull resumes it`, 'aborted');
  }
  if (err instanceof ChecksumError) return new ModelPullError(`${err.message}; the download was deleted`, 'checksum');
  if (err instanceof NetworkError || isStreamBreak(err)) {
    return new ModelPullError(
      `${(err as Error).message}, so ${ctx.entry.name} could not be pulled from ${ctx.hub} (tried ${ctx.retries + 1} times). ` +
        `What was downloaded is kept; the same command resumes it once the hub is reachable.\n\n${handPlacementHelp(ctx.entry, ctx.dir, ctx.variant, ctx.hub)}`,
      'offline',
    );
  }
  if (err instanceof TransientError) return new ModelPullError(`${err.message} (tried ${ctx.retries + 1} times)`, 'http');
  return new ModelPullError(`pull of ${ctx.entry.name} failed: ${(err as Error)?.message ?? String(err)}`, 'http');
}

/** Exactly which files to fetch by other means, and where they go, for machines that cannot reach the hub. */
export function handPlacementHelp(entry: RegistryEntry, dir: string, variant: ModelVariant, hubUrl = 'https://huggingface.co'): string {
  const files = [...entry.commonFiles, ...(entry.variantFiles[variant] ?? [])];
  const hub = hubUrl.replace(/\/+$/, '');
  const lines = [
    `To install ${entry.name} by hand, download these files of ${entry.repo} (revision ${entry.revision}) on a machine with internet access, from ${hub}/${entry.repo}/tree/${entry.revision}:`,
    ...files.map((f) => `  ${f}`),
  ];
  if (entry.weightFolders?.length) {
    lines.push(
      `  and every other file directly inside ${entry.weightFolders.map((f) => `${f}/`).join(' and ')} (large towers keep their weights there as ONNX external data), except *.armnn and *.rknn`,
    );
  }
  lines.push(
    `and copy them, keeping their folders, into`,
    `  ${dir}`,
    `That is the ${LAYOUT_HELP[entry.layout].split('\n')[0]!.replace(/ \(e\.g\..*$|:$/, '')}. Check the folder with \`reprise models check --path ${dir}\`.`,
    `The folder may live anywhere: point Reprise at it with models.path in reprise.config.json, or REPRISE_MODELS__PATH=/path/to/folder.`,
    `With the Hugging Face CLI on the other machine: huggingface-cli download ${entry.repo} --revision ${entry.revision} --local-dir <folder> ` +
      (entry.weightFolders?.length
        ? `--include ${[...entry.commonFiles.filter((f) => !entry.weightFolders!.some((w) => f.startsWith(`${w}/`))), ...entry.weightFolders.map((w) => `${w}/*`)].map((f) => `"${f}"`).join(' ')} --exclude "*.armnn" "*.rknn"`
        : files.join(' ')),
  );
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------

async function readManifest(dir: string): Promise<PullManifest | undefined> {
  try {
    const m = JSON.parse(await readFile(path.join(dir, MANIFEST_FILE), 'utf8')) as PullManifest;
    return Array.isArray(m.files) ? { ...m, variants: Array.isArray(m.variants) ? m.variants : [] } : undefined;
  } catch {
    return undefined;
  }
}

async function statOrNull(p: string) {
  try {
    return await stat(p);
  } catch {
    return undefined;
  }
}

function localPath(dir: string, rel: string): string {
  if (!safeRelative(rel)) throw new ModelPullError(`refusing to write ${rel}: not a plain path inside the model folder`, 'http', rel);
  return path.join(dir, ...rel.split('/'));
}

/** The hub names files; a name must not climb out of the model folder. */
function safeRelative(rel: string): boolean {
  return rel.length > 0 && !rel.startsWith('/') && !rel.includes('\\') && rel.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}

function repoPath(repo: string): string {
  return repo.split('/').map(encodeURIComponent).join('/');
}

function encodePath(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function parseContentRange(value: string | null): { start: number; end: number; total?: number } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/i.exec(value?.trim() ?? '');
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), ...(m[3] !== '*' ? { total: Number(m[3]) } : {}) };
}

/** The hub pages long listings with a Link header (rel="next"). */
function nextLink(link: string | null, base: string): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(part);
    if (m) return new URL(m[1]!, base).toString();
  }
  return undefined;
}
