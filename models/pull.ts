import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LAYOUT_HELP, MANIFEST_FILE } from './layout.ts';
import { isPinned, variantsOf, type ModelVariant, type RegistryEntry } from './registry.ts';
import {
  acquireLock,
  createHttpClient,
  HttpStatusError,
  LockHeldError,
  NetworkError,
  RepriseError,
  TimeoutError,
  TooLargeError,
  type HttpClient,
  type ResponseHeaders,
  type RetryNotice,
} from '../common/index.ts';

export interface PullOptions {
  /** Models live in `{cacheDir}/{entry.name}`. */
  cacheDir: string;
  /** https://huggingface.co, or a mirror speaking the same API. */
  hubUrl: string;
  variant: ModelVariant;
  onProgress?: (event: PullEvent) => void;
  signal?: AbortSignal;
  /** Hugging Face access token, for gated or private repositories. Sent to the hub only, never to the CDN it redirects to. */
  token?: string;
  /** Retries after the first attempt, per request (default 4). */
  retries?: number;
  /** Backoff base: retry n waits a random time up to base × 2ⁿ, at most two minutes, as does a hub's Retry-After (common/retry.ts, default 1000). */
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
  http: HttpClient;
  emit: (e: PullEvent) => void;
  signal?: AbortSignal;
  token?: string;
  retries: number;
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
    http: hubClient(opts),
    emit: opts.onProgress ?? (() => {}),
    signal: opts.signal,
    token: opts.token,
    retries: opts.retries ?? DEFAULT_RETRIES,
    commit: isPinned(entry) ? entry.revision.toLowerCase() : '',
  };
  try {
    if (!ctx.commit) ctx.commit = await resolveCommit(ctx);
    return await pullInto(ctx);
  } catch (err) {
    throw asPullError(ctx, err);
  } finally {
    await ctx.http.close();
    release();
  }
}

const DEFAULT_RETRIES = 4;
/** The hub's listings page long folders: a page this large is not a listing. */
const MAX_LISTING_BYTES = 32 * 1024 * 1024;
/** The longest Retry-After of a hub that a pull waits for; a longer one fails the pull, which says so. */
const MAX_RETRY_WAIT_MS = 120_000;

/** Reprise's one HTTP client (common/http), set for a hub and the CDN it sends downloads to. */
function hubClient(opts: PullOptions): HttpClient {
  const responseTimeoutMs = opts.responseTimeoutMs ?? 30_000;
  const stallTimeoutMs = opts.stallTimeoutMs ?? 60_000;
  return createHttpClient({
    userAgent: 'Reprise/0.1 (reprise models pull)',
    concurrency: 2,
    perHostConcurrency: 2,
    perHostRatePerSecond: 20,
    connectTimeoutMs: responseTimeoutMs,
    responseTimeoutMs,
    stallTimeoutMs,
    // Listings: an answer, then a body that should not take longer than a stall.
    totalTimeoutMs: responseTimeoutMs + stallTimeoutMs,
    retries: opts.retries ?? DEFAULT_RETRIES,
    retryBaseDelayMs: opts.retryBaseDelayMs ?? 1000,
    // A hub's Retry-After is obeyed up to two minutes; asking for longer fails the pull, which can be run again.
    retryMaxDelayMs: MAX_RETRY_WAIT_MS,
    maxRedirects: 10,
    maxJsonBytes: MAX_LISTING_BYTES,
    maxImageBytes: MAX_LISTING_BYTES,
    // The hub is the operator's choice (models.hubUrl, an intranet mirror included), and so is where it
    // redirects; cloud metadata addresses stay refused.
    allowPrivate: ['0.0.0.0/0', '::/0'],
    settingsName: 'pullModel options',
  });
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
    const result = await fetchFile(ctx, file, (fileBytes) =>
      ctx.emit({ type: 'progress', path: file.path, fileBytes, fileSize: file.size, doneBytes: completedBytes + fileBytes, totalBytes }),
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
  const { json, headers } = await hubJson(ctx, url, `revision ${entry.revision}`, () =>
    `${ctx.hub} has no ${entry.repo} at revision ${entry.revision} (404): the repository or branch does not exist`,
  );
  const sha = (json as { sha?: unknown } | null | undefined)?.sha;
  const commit = [sha, headers['x-repo-commit']].find((c): c is string => typeof c === 'string' && /^[0-9a-f]{40}$/i.test(c));
  if (!commit) {
    throw new ModelPullError(
      `${ctx.hub} did not say which commit ${entry.repo}@${entry.revision} is at (no "sha" in ${url}, no X-Repo-Commit header). ` +
        `Reprise records the commit in the model id so that a re-upload is not mistaken for this model, and pulls an unpinned model only when it is known; ` +
        `use a hub or mirror that answers the model-info API, or place the folder by hand and set models.path`,
      'http',
    );
  }
  return commit.toLowerCase();
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
    for (const f of await listFolder(ctx, folder)) listed.set(f.path, f);
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
    const { json: entries, headers } = await hubJson(ctx, url, folder || '/', () =>
      `${ctx.hub} has no ${folder ? `folder ${folder} in ` : ''}${ctx.entry.repo} at revision ${revisionLabel(ctx)} (404): the repository, revision or folder does not exist`,
    );
    if (!Array.isArray(entries)) throw new ModelPullError(`the hub's file list for ${folder || '/'} of ${ctx.entry.repo} is not a JSON list (${url})`, 'http');
    for (const e of entries as Array<Record<string, unknown>>) {
      if (e?.type !== 'file' || typeof e.path !== 'string' || typeof e.size !== 'number') continue;
      if (!safeRelative(e.path)) continue;
      const lfs = e.lfs as { oid?: unknown; size?: unknown } | undefined;
      const sha256 = typeof lfs?.oid === 'string' && /^[0-9a-f]{64}$/i.test(lfs.oid) ? lfs.oid.toLowerCase() : undefined;
      const size = sha256 && typeof lfs?.size === 'number' ? lfs.size : e.size;
      const gitOid = !sha256 && typeof e.oid === 'string' && /^[0-9a-f]{40}$/i.test(e.oid) ? e.oid.toLowerCase() : undefined;
      files.push({ path: e.path, size, ...(sha256 ? { sha256 } : {}), ...(gitOid ? { gitOid } : {}) });
    }
    url = nextLink(headers.link, url);
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

/**
 * Fetches one file into `{file}.partial` through the HTTP client, which resumes it with a Range
 * request after an interruption, and renames it into place once it verifies. A partial left by
 * an earlier pull may be of an older upload: one that fails after resuming is deleted and the file
 * fetched once more from the start.
 */
async function fetchFile(ctx: Ctx, file: RemoteFile, progress: (fileBytes: number) => void): Promise<ManifestFile> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await downloadFile(ctx, file, progress);
    } catch (err) {
      if (!(err instanceof StalePartialError) || attempt > 1) throw err;
      ctx.emit({ type: 'retry', path: file.path, attempt, delayMs: 0, reason: err.message });
    }
  }
}

class StalePartialError extends RepriseError {}

async function downloadFile(ctx: Ctx, file: RemoteFile, progress: (fileBytes: number) => void): Promise<ManifestFile> {
  const target = localPath(ctx.dir, file.path);
  const partial = `${target}.partial`;
  await mkdir(path.dirname(target), { recursive: true });
  let have = (await statOrNull(partial))?.size ?? 0;
  if (have > file.size) {
    await rm(partial, { force: true });
    have = 0;
  }
  // Hash what is already here before asking for the rest, so the connection never waits on the disk;
  // then every chunk as it is written.
  let hashes = new Hashes(file);
  if (have > 0) for await (const chunk of createReadStream(partial)) hashes.update(chunk as Buffer);
  let hashed = have;
  let resumedEarlier = have > 0;

  if (have < file.size || file.size === 0) {
    const url = `${ctx.hub}/${repoPath(ctx.entry.repo)}/resolve/${ctx.commit}/${encodePath(file.path)}`;
    let bytes: number;
    try {
      ({ bytes } = await ctx.http.download(url, {
        file: partial,
        maxBytes: file.size,
        headers: hubHeaders(ctx, url),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
        onRetry: (retry) => reportRetry(ctx, retry, file.path),
        onResponse: ({ offset }) => {
          if (offset === 0) {
            // The server sent the whole file (again): whatever was here before is gone.
            hashes = new Hashes(file);
            hashed = 0;
            resumedEarlier = false;
          } else if (offset !== hashed) {
            throw new Error(`the download of ${file.path} continues at byte ${offset}, but ${hashed} bytes were hashed`);
          }
          ctx.emit({ type: 'file-start', path: file.path, size: file.size, resumeFrom: offset });
        },
        onChunk: (chunk, fileBytes) => {
          hashes.update(chunk);
          hashed = fileBytes;
          progress(fileBytes);
        },
      }));
    } catch (err) {
      if (err instanceof TooLargeError) {
        await rm(partial, { force: true });
        throw new ModelPullError(`${file.path}: the server sent more than the ${file.size} bytes the hub lists; the download was deleted`, 'checksum', file.path);
      }
      if (err instanceof HttpStatusError) {
        if (err.status === 404) throw new ModelPullError(`${file.path} is not in ${ctx.entry.repo} at revision ${revisionLabel(ctx)} (404)`, 'not-found', file.path);
        throw hubRefusal(ctx, err, file.path);
      }
      throw err;
    }
    if (bytes !== file.size) {
      await rm(partial, { force: true });
      throw new ModelPullError(`${file.path}: the server sent ${bytes} bytes, the hub lists ${file.size}; the download was deleted`, 'checksum', file.path);
    }
  } else {
    // The whole file is already in the partial (killed between the last byte and the rename).
    ctx.emit({ type: 'file-start', path: file.path, size: file.size, resumeFrom: have });
    progress(have);
  }

  if (!hashes.matches(file)) {
    await rm(partial, { force: true });
    if (resumedEarlier) throw new StalePartialError(`${file.path} did not verify after resuming an earlier partial download; the partial was deleted, starting over`);
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
// The hub: what its answers mean for a pull. Requests, redirects, retries and resumes are the HTTP client's.

/** The token goes to the hub only; the client drops it when the hub redirects a download to its CDN. */
function hubHeaders(ctx: Ctx, url: string): Record<string, string> {
  return ctx.token && new URL(url).origin === new URL(ctx.hub).origin ? { authorization: `Bearer ${ctx.token}` } : {};
}

/** A JSON answer of the hub's API: undefined when the body is not JSON. A 404 is `notFound()`'s message. */
async function hubJson(ctx: Ctx, url: string, what: string, notFound: () => string): Promise<{ json: unknown; headers: ResponseHeaders }> {
  let res;
  try {
    res = await ctx.http.fetchJson(url, { headers: hubHeaders(ctx, url), ...(ctx.signal ? { signal: ctx.signal } : {}), onRetry: (retry) => reportRetry(ctx, retry) });
  } catch (err) {
    if (err instanceof HttpStatusError) throw err.status === 404 ? new ModelPullError(notFound(), 'not-found') : hubRefusal(ctx, err, what);
    throw err;
  }
  if (res.status !== 'ok') throw new ModelPullError(`the hub answered "not modified" to an unconditional request for ${what}`, 'http');
  try {
    return { json: JSON.parse(res.body.toString('utf8')) as unknown, headers: res.headers };
  } catch {
    return { json: undefined, headers: res.headers };
  }
}

function hubRefusal(ctx: Ctx, err: HttpStatusError, what: string): ModelPullError {
  const status = err.status;
  if (status === 401 || status === 403) {
    return new ModelPullError(
      `the hub refused ${what} of ${ctx.entry.repo} (${status}): the repository may be gated or private; accept its terms on ${ctx.hub}/${ctx.entry.repo} and set HF_TOKEN`,
      'http',
      what,
    );
  }
  if (!err.retryable) return new ModelPullError(`the hub answered ${status} for ${what} of ${ctx.entry.repo}`, 'http', what);
  const wait = err.retryAfterMs !== undefined && err.retryAfterMs > MAX_RETRY_WAIT_MS ? `asks to wait ${Math.ceil(err.retryAfterMs / 1000)} s` : `tried ${ctx.retries + 1} times`;
  return new ModelPullError(`the hub answered ${status} for ${what} (${wait}); run the pull again later`, 'http', what);
}

function reportRetry(ctx: Ctx, retry: RetryNotice, file?: string): void {
  ctx.emit({ type: 'retry', ...(file ? { path: file } : {}), attempt: retry.attempt, delayMs: retry.delayMs, reason: describeFailure(retry.error) });
}

/** Codes of a connection that broke during a transfer, rather than one that could not be made. */
const BROKEN_CONNECTION = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE', 'ECONNABORTED']);

function describeFailure(err: unknown): string {
  if (err instanceof NetworkError) {
    const host = safeHost(err.url);
    const detail = (err.cause as Error | undefined)?.message ?? err.message;
    if (err.code === undefined || BROKEN_CONNECTION.has(err.code)) return `the transfer from ${host} broke off (${detail})`;
    return `cannot reach ${host} (${err.code}: ${detail})`;
  }
  if (err instanceof HttpStatusError) return `the hub answered ${err.status} for ${err.url}`;
  return (err as Error)?.message ?? String(err);
}

/** Every failure leaves as a ModelPullError; an unreachable hub says how to do without it. */
function asPullError(ctx: Ctx, err: unknown): ModelPullError {
  if (err instanceof ModelPullError) return err;
  if (ctx.signal?.aborted) {
    return new ModelPullError(`pull of ${ctx.entry.name} interrupted; what was downloaded is kept in ${ctx.dir} and the next pull resumes it`, 'aborted');
  }
  if (err instanceof NetworkError || err instanceof TimeoutError) {
    const tries = err instanceof NetworkError && err.code === 'ENOTFOUND' ? '' : ` (tried ${ctx.retries + 1} times)`;
    return new ModelPullError(
      `${describeFailure(err)}, so ${ctx.entry.name} could not be pulled from ${ctx.hub}${tries}. ` +
        `What was downloaded is kept; the same command resumes it once the hub is reachable.\n\n${handPlacementHelp(ctx.entry, ctx.dir, ctx.variant, ctx.hub)}`,
      'offline',
    );
  }
  if (err instanceof HttpStatusError) return hubRefusal(ctx, err, err.url);
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

/** The hub pages long listings with a Link header (rel="next"). */
function nextLink(link: string | undefined, base: string): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(part);
    if (m) return new URL(m[1]!, base).toString();
  }
  return undefined;
}
