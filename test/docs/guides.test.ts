import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { buildProgram } from '../../cli/reprise.ts';
import { EXIT } from '../../cli/exit.ts';
import { ConfigError, loadConfig } from '../../config/index.ts';
import { configSchema } from '../../config/schema.ts';
import { PROBLEM_TYPES } from '../../plugin/problems.ts';
import { ADMIN_PROBLEM_TYPES } from '../../plugin/admin/problems.ts';
import { createSearchFixture, type SearchFixture } from '../support/search-fixture.ts';
import { requireFixtures } from '../support/fixtures.ts';
import { request } from '../plugin/supertest.ts';
import { ensureBuilt } from '../support/built-package.ts';

/**
 * Keeps the guides in docs/ true to the code: the commands and options they show exist, their
 * configuration examples validate, their exit codes, problem types and quoted error messages are
 * the code's, their links resolve, and deploying.md's Express example runs.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DOCS = path.join(ROOT, 'docs');
const GUIDES = ['deploying.md', 'cron.md', 'models.md', 'troubleshooting.md'];

interface Block {
  file: string;
  line: number;
  lang: string;
  body: string;
}

const read = (file: string) => readFileSync(path.join(DOCS, file), 'utf8');

/** Fenced blocks, indented ones (inside list items) included, with their indentation removed. */
export function fencedBlocks(file: string, text: string): Block[] {
  const blocks: Block[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```([\w-]*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]!); j++) body.push(lines[j]!.slice(Math.min(indent, lines[j]!.search(/\S|$/))));
    assert.ok(j < lines.length, `${file}:${i + 1}: unclosed code block`);
    blocks.push({ file, line: i + 1, lang: open[2]!, body: body.join('\n') });
    i = j;
  }
  return blocks;
}

const OPERATORS = ['2>&1', '&&', '||', '>>', '2>', '|', ';', '>', '<', '&'];

/** Shell words and operators, enough for the guides' commands: quotes, $(…), comments, line continuations. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  const flush = () => {
    if (inWord) words.push(word);
    word = '';
    inWord = false;
  };
  for (let i = 0; i < line.length; ) {
    const c = line[i]!;
    if (c === "'" || c === '"') {
      const end = line.indexOf(c, i + 1);
      word += line.slice(i + 1, end < 0 ? line.length : end);
      inWord = true;
      i = end < 0 ? line.length : end + 1;
    } else if (c === '$' && line[i + 1] === '(') {
      let depth = 0;
      let j = i + 1;
      for (; j < line.length; j++) {
        if (line[j] === '(') depth++;
        else if (line[j] === ')' && --depth === 0) break;
      }
      word += line.slice(i, j + 1);
      inWord = true;
      i = j + 1;
    } else if (/\s/.test(c)) {
      flush();
      i++;
    } else if (c === '#' && !inWord) {
      break;
    } else {
      const op = OPERATORS.find((o) => line.startsWith(o, i));
      if (op && !(op === '&' && inWord)) {
        flush();
        words.push(op);
        i += op.length;
      } else {
        word += c;
        inWord = true;
        i++;
      }
    }
  }
  flush();
  return words;
}

interface Invocation {
  where: string;
  args: string[];
}

/** Every `reprise …` (or `npx reprise …`) in a block of shell or crontab lines, quoted `sh -c '…'` strings included. */
function reprisesIn(block: Block): Invocation[] {
  const out: Invocation[] = [];
  const lines = block.body.replace(/\\\n/g, ' ').split('\n');
  const scan = (text: string, where: string) => {
    const words = shellWords(text);
    words.forEach((w, i) => {
      // A quoted command (`sh -c '… reprise …'`) is read as one; a $(…) stays one word and is not.
      if (/\s/.test(w) && /\breprise\b/.test(w) && shellWords(w).length > 1) scan(w, where);
      if (w !== 'reprise') return;
      const args: string[] = [];
      for (const a of words.slice(i + 1)) {
        if (OPERATORS.includes(a)) break;
        args.push(a);
      }
      out.push({ where, args });
    });
  };
  lines.forEach((l, k) => scan(l, `${block.file}:${block.line + 1 + k}`));
  return out;
}

/** Checks the subcommand and every option against the program the `reprise` binary runs. */
function checkInvocation(program: Command, inv: Invocation): void {
  let command = program;
  let i = 0;
  const path: string[] = ['reprise'];
  while (i < inv.args.length && command.commands.length) {
    const word = inv.args[i]!;
    if (word.startsWith('-')) break;
    const sub = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    assert.ok(sub, `${inv.where}: "${path.join(' ')} ${word}" is not a command (known: ${command.commands.map((c) => c.name()).join(', ')})`);
    command = sub;
    path.push(word);
    i++;
  }
  assert.ok(path.length > 1 || inv.args.some((a) => ['-h', '--help', '-V', '--version'].includes(a)), `${inv.where}: "reprise" without a command`);
  for (; i < inv.args.length; i++) {
    const arg = inv.args[i]!;
    if (!arg.startsWith('-') || arg === '-') continue;
    const name = arg.split('=')[0]!;
    if (['-h', '--help'].includes(name) || (command === program && ['-V', '--version'].includes(name))) continue;
    const option = command.options.find((o) => o.long === name || o.short === name);
    assert.ok(option, `${inv.where}: "${path.join(' ')}" has no option ${name} (its options: ${command.options.map((o) => o.flags).join(', ')})`);
    if ((option.required || option.optional) && !arg.includes('=')) i++;
  }
}

type SchemaNode = { _zod: { def: { type: string; innerType?: SchemaNode; shape?: Record<string, SchemaNode> } } };

function unwrap(s: SchemaNode): SchemaNode {
  while (s._zod.def.innerType) s = s._zod.def.innerType;
  return s;
}

/** Whether a dotted key (`api.corsOrigins`) names a key of the configuration schema. */
function configKeyExists(key: string): boolean {
  let node: SchemaNode | undefined = configSchema as unknown as SchemaNode;
  for (const part of key.split('.')) {
    const s: SchemaNode = unwrap(node);
    node = s._zod.def.type === 'object' ? (s as unknown as { shape: Record<string, SchemaNode> }).shape[part] : undefined;
    if (!node) return false;
  }
  return true;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'node_modules' || name === 'dist' ? [] : sourceFiles(full);
    return name.endsWith('.ts') ? [full] : [];
  });
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

describe('docs: the guides stay true to the code', () => {
  const texts = new Map(GUIDES.map((f) => [f, read(f)]));
  const blocks = GUIDES.flatMap((f) => fencedBlocks(f, texts.get(f)!));

  it('finds the fenced blocks of every guide', () => {
    for (const f of GUIDES) assert.ok(blocks.some((b) => b.file === f && b.lang === 'sh'), `${f} has no sh block`);
    assert.ok(blocks.some((b) => b.lang === 'json'));
    assert.ok(blocks.some((b) => b.lang === 'cron'));
  });

  it('the shell-word reader splits commands as a shell does', () => {
    assert.deepEqual(shellWords(`REPRISE_X=$(cat /a b) npx reprise serve --port 0 >> log 2>&1 # note`), [
      'REPRISE_X=$(cat /a b)', 'npx', 'reprise', 'serve', '--port', '0', '>>', 'log', '2>&1',
    ]);
    assert.deepEqual(shellWords(`env -i /bin/sh -c 'cd /srv && npx reprise harvest urls.txt'; echo "exit $?"`), [
      'env', '-i', '/bin/sh', '-c', 'cd /srv && npx reprise harvest urls.txt', ';', 'echo', 'exit $?',
    ]);
  });

  it('every reprise command and option in the sh and crontab blocks exists in buildProgram()', () => {
    const program = buildProgram();
    const invocations = blocks.filter((b) => b.lang === 'sh' || b.lang === 'cron').flatMap(reprisesIn);
    assert.ok(invocations.length >= 20, `only ${invocations.length} reprise commands found`);
    const seen = new Set(invocations.map((inv) => inv.args.filter((a) => !a.startsWith('-'))[0]));
    for (const command of ['harvest', 'harvest-status', 'models', 'serve']) assert.ok(seen.has(command), `no "reprise ${command}" in the guides`);
    for (const inv of invocations) checkInvocation(program, inv);
  });

  it('rejects a command or an option that does not exist (the check can fail)', () => {
    const program = buildProgram();
    const block = (body: string): Block => ({ file: 'x.md', line: 1, lang: 'sh', body });
    assert.throws(() => reprisesIn(block('npx reprise harvest urls.txt --since 2026-01-01 --parallel 4')).forEach((i) => checkInvocation(program, i)), /has no option --parallel/);
    assert.throws(() => reprisesIn(block('npx reprise models fetch clip')).forEach((i) => checkInvocation(program, i)), /"reprise models fetch" is not a command/);
    assert.doesNotThrow(() => reprisesIn(block('npx reprise models pull clip-vit-base-patch32 --variant quantized -d /tmp/x')).forEach((i) => checkInvocation(program, i)));
  });

  it('every json block is a valid configuration', () => {
    const jsonBlocks = blocks.filter((b) => b.lang === 'json');
    assert.ok(jsonBlocks.length >= 4);
    for (const b of jsonBlocks) {
      const parsed = configSchema.safeParse(JSON.parse(b.body));
      assert.ok(parsed.success, `${b.file}:${b.line}: ${parsed.success ? '' : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
  });

  it('every REPRISE_* variable and every dotted configuration key the guides name exists', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'reprise-guides-'));
    const empty = path.join(dir, 'empty.json');
    writeFileSync(empty, '{}');
    try {
      let variables = 0;
      let keys = 0;
      for (const [file, text] of texts) {
        for (const [name] of text.matchAll(/\bREPRISE_[A-Z0-9_]*[A-Z0-9]\b/g)) {
          if (name === 'REPRISE_CONFIG' || name === 'REPRISE_FIXTURES') continue;
          variables++;
          // A mistyped variable shown with its error is an example of that error: it must stay unknown.
          const typoExample = text.includes(`${name}: no configuration key`);
          let unknown: string | undefined;
          try {
            loadConfig({ file: empty, env: { [name]: '1' } });
          } catch (err) {
            assert.ok(err instanceof ConfigError, String(err));
            unknown = err.problems.find((p) => p.includes('no configuration key'));
          }
          if (typoExample) assert.ok(unknown, `${file}: ${name} is shown as unknown but is a configuration key`);
          else assert.equal(unknown, undefined, `${file}: ${unknown}`);
        }
        for (const [, key] of text.matchAll(/`((?:dataDir|log|harvest|models|store|api)\.[A-Za-z.]+)`/g)) {
          keys++;
          assert.ok(configKeyExists(key!), `${file}: \`${key}\` is not a configuration key`);
        }
      }
      assert.ok(variables >= 10 && keys >= 20, `${variables} variables, ${keys} keys checked`);
      assert.equal(configKeyExists('api.corsOrigin'), false, 'the key check can fail');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("cron.md's exit-code table and the exits the guides show are cli/exit.ts's", () => {
    const rows = [...texts.get('cron.md')!.matchAll(/^\| (\d+) \| (.+)$/gm)].map((m) => ({ code: Number(m[1]), text: m[2]! }));
    assert.deepEqual(rows.map((r) => r.code).sort(), Object.values(EXIT).slice().sort());
    const row = (code: number) => rows.find((r) => r.code === code)!.text;
    assert.match(row(EXIT.OK), /all went well/);
    assert.match(row(EXIT.SOME_FAILED), /some items failed/);
    assert.match(row(EXIT.FATAL), /fatal error/);
    assert.match(row(EXIT.INTERRUPTED_SIGINT), /SIGINT/);
    assert.match(row(EXIT.INTERRUPTED_SIGTERM), /SIGTERM/);
    for (const b of blocks.filter((x) => x.lang === 'text')) {
      for (const [, code] of b.body.matchAll(/^exit (\d+)$/gm)) {
        assert.ok((Object.values(EXIT) as number[]).includes(Number(code)), `${b.file}:${b.line}: exit ${code} is not an exit code of reprise`);
      }
    }
  });

  it("troubleshooting.md's problem table lists every problem type of the API with its status", () => {
    const table = new Map(
      [...texts.get('troubleshooting.md')!.matchAll(/^\| `urn:reprise:problem:([a-z-]+)` \| (\d{3}) \|/gm)].map((m) => [m[1]!, Number(m[2])]),
    );
    const catalogue: Record<string, { status: number }> = { ...PROBLEM_TYPES, ...ADMIN_PROBLEM_TYPES };
    assert.deepEqual([...table.keys()].sort(), Object.keys(catalogue).sort());
    for (const [kind, status] of table) assert.equal(status, catalogue[kind]!.status, `${kind}: the code answers ${catalogue[kind]!.status}`);
  });

  it('every error quoted in a troubleshooting heading is written by the code', () => {
    // Sources with string concatenations joined, so that a message split over lines reads as one.
    const sources = ['cli', 'common', 'config', 'harvester', 'models', 'plugin', 'store', 'publisher', 'reprints']
      .flatMap((d) => sourceFiles(path.join(ROOT, d)))
      .map((f) => readFileSync(f, 'utf8').replace(/[`'"]\s*\+\s*\n?\s*[`'"]/g, ''))
      .join('\n');
    const headings = [...texts.get('troubleshooting.md')!.matchAll(/^###+ (.*)$/gm)].map((m) => m[1]!);
    const fragments = headings.flatMap((h) => [...h.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
    assert.ok(fragments.length >= 25, `only ${fragments.length} quoted fragments`);
    for (const fragment of fragments) assert.ok(sources.includes(fragment), `"${fragment}" is in no source file`);
    assert.equal(sources.includes('is already running on this journl'), false);
  });

  it('every relative link between the docs resolves, anchors included', () => {
    for (const file of [...GUIDES, 'README.md']) {
      const text = read(file);
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue;
        const [rel, anchor] = target!.split('#') as [string, string | undefined];
        const dest = rel ? path.resolve(DOCS, rel) : path.join(DOCS, file);
        assert.ok(statSync(dest, { throwIfNoEntry: false }), `${file}: link to ${target} names no file`);
        if (anchor && dest.endsWith('.md')) {
          const anchors = [...readFileSync(dest, 'utf8').matchAll(/^#+ (.*)$/gm)].map((m) => slug(m[1]!.replace(/`/g, '')));
          assert.ok(anchors.includes(anchor), `${file}: no heading for #${anchor} in ${path.relative(ROOT, dest)}`);
        }
      }
    }
  });
});

describe('docs: the Express example of deploying.md runs', function () {
  requireFixtures(this);
  this.timeout(120_000);

  let fixture: SearchFixture | undefined;
  let mod: { app: Parameters<typeof request>[0]; shutdown(): Promise<void> } | undefined;
  let work: string | undefined;
  let items = 0;
  const saved: Record<string, string | undefined> = {};
  const TOKEN = 'guides-admin-token-0123456789';
  const ORIGIN = 'https://portal.example.org';

  before(async () => {
    const js = fencedBlocks('deploying.md', read('deploying.md')).find((b) => b.lang === 'js' && b.body.includes('createSearchRouter'));
    assert.ok(js, 'deploying.md has no js block mounting createSearchRouter');
    // The example imports `reprise`, the compiled package, as a portal's app does.
    ensureBuilt();
    fixture = await createSearchFixture();
    items = (await fixture.store.stats()).items;
    // The example opens the index and the model itself, as a portal would.
    await fixture.store.close();
    await fixture.encoders.close();
    // Inside the repository, so that `reprise/…` resolves to this package as it does in a portal's node_modules.
    work = path.join(ROOT, 'test-output', 'docs-guides', `run-${process.pid}-${Date.now()}`);
    mkdirSync(work, { recursive: true });
    const configFile = path.join(work, 'reprise.config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        dataDir: fixture.dataDir,
        models: { path: fixture.config.models.path, threads: 1 },
        api: { corsOrigins: [ORIGIN], adminToken: TOKEN, rateLimitPerMinute: 2 },
      }),
    );
    const app = path.join(work, 'app.mjs');
    writeFileSync(app, js.body);
    for (const name of ['REPRISE_CONFIG', 'PORT']) saved[name] = process.env[name];
    process.env.REPRISE_CONFIG = configFile;
    process.env.PORT = '0';
    mod = (await import(pathToFileURL(app).href)) as typeof mod;
  });

  after(async () => {
    if (mod) {
      process.removeListener('SIGINT', mod.shutdown);
      process.removeListener('SIGTERM', mod.shutdown);
      await mod.shutdown();
    }
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await fixture?.inst.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  // Each request says it comes from a client of its own (the example trusts the loopback proxy),
  // so that the rate limit of 2 a minute set above applies only where a test means it to.
  let client = 0;
  const from = () => `198.51.100.${++client}`;

  it("serves the portal's own routes and the search router under /visual-search", async () => {
    const agent = request(mod!.app);
    const home = await agent.get('/').set('X-Forwarded-For', from());
    assert.equal(home.status, 200);
    assert.match(home.text, /The portal/);
    const health = await agent.get('/visual-search/health').set('X-Forwarded-For', from());
    assert.equal(health.status, 200);
    assert.ok(items > 0);
    assert.equal(health.body.store.items, items);
    assert.equal(health.body.model.loaded, true);
    const search = await agent.get('/visual-search/search').query({ q: 'a street with people', limit: 3 }).set('X-Forwarded-For', from());
    assert.equal(search.status, 200);
    assert.equal(search.body.hits.length, 3);
    assert.ok(search.body.hits.every((h: { canvas: { id: string } }) => h.canvas.id.startsWith(fixture!.inst.baseUrl)));
  });

  it('answers browsers on the configured origin only (CORS)', async () => {
    const agent = request(mod!.app);
    const ok = await agent.get('/visual-search/stats').set('Origin', ORIGIN).set('X-Forwarded-For', from());
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['access-control-allow-origin'], ORIGIN);
    const other = await agent.get('/visual-search/stats').set('Origin', 'https://other.example').set('X-Forwarded-For', from());
    assert.equal(other.status, 200);
    assert.equal(other.headers['access-control-allow-origin'], undefined);
  });

  it('has the admin routes behind the token, with the harvest controller', async () => {
    const agent = request(mod!.app);
    const none = await agent.get('/visual-search/admin/harvests').set('X-Forwarded-For', from());
    assert.equal(none.status, 401);
    assert.equal(none.body.type, 'urn:reprise:problem:unauthorized');
    const status = await agent.get('/visual-search/admin/harvests').set('Authorization', `Bearer ${TOKEN}`).set('X-Forwarded-For', from());
    assert.equal(status.status, 200);
    assert.equal(status.body.running, false);
    assert.equal(status.body.journal.indexed, items);
  });

  it("keys the rate limit on the client behind the proxy ('trust proxy')", async () => {
    const agent = request(mod!.app);
    const a = from();
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await agent.get('/visual-search/stats').set('X-Forwarded-For', a)).status);
    assert.deepEqual(codes, [200, 200, 429]);
    assert.equal((await agent.get('/visual-search/stats').set('X-Forwarded-For', from())).status, 200);
  });
});

describe("docs: the README's library example runs as pasted, in plain Node", function () {
  requireFixtures(this);
  this.timeout(180_000);

  let fixture: SearchFixture | undefined;
  let work: string | undefined;
  let child: ChildProcess | undefined;

  after(async () => {
    child?.kill('SIGTERM');
    await fixture?.inst.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('serves the search router from a .mjs file that imports `reprise`, with no loader', async () => {
    const blocks = fencedBlocks('README.md', readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
    const js = blocks.find((b) => b.lang === 'js' && /from 'reprise'/.test(b.body) && b.body.includes('createSearchRouter'));
    assert.ok(js, "README.md has no js block importing createSearchRouter from 'reprise'");
    const run = blocks.find((b) => b.lang === 'sh' && /^node \S+\.mjs$/m.test(b.body) && b.line > js.line);
    assert.ok(run, 'README.md does not say how to run the library example');
    const script = /^node (\S+\.mjs)$/m.exec(run.body)![1]!;
    ensureBuilt();
    fixture = await createSearchFixture();
    const items = (await fixture.store.stats()).items;
    await fixture.store.close();
    await fixture.encoders.close();
    // Inside the repository, so that `reprise` and `express` resolve as in a portal's node_modules.
    work = path.join(ROOT, 'test-output', 'readme-library', `run-${process.pid}-${Date.now()}`);
    mkdirSync(work, { recursive: true });
    writeFileSync(path.join(work, script), js.body);
    const configFile = path.join(work, 'reprise.config.json');
    writeFileSync(configFile, JSON.stringify({ dataDir: fixture.dataDir, models: { path: fixture.config.models.path, threads: 1 } }));
    // As pasted: `node server.mjs`, no --import, no tsx.
    child = spawn(process.execPath, [script], { cwd: work, env: { PATH: process.env.PATH, REPRISE_CONFIG: configFile, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', resolve));
    const base = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child!.stdout! }).on('line', (line) => {
        const m = /(http:\/\/127\.0\.0\.1:\d+\/visual-search)/.exec(line);
        if (m) resolve(m[1]!);
      });
      exited.then((code) => reject(new Error(`node ${script} exited (${code}): ${stderr}`)));
    });
    const health = await fetch(`${base}/health`);
    assert.equal(health.status, 200);
    const body = (await health.json()) as { store: { items: number }; model: { loaded: boolean } };
    assert.equal(body.store.items, items);
    assert.equal(body.model.loaded, true);
    const search = await fetch(`${base}/search?q=${encodeURIComponent('a street with people')}&limit=2`);
    assert.equal(search.status, 200);
    assert.equal(((await search.json()) as { hits: unknown[] }).hits.length, 2);
  });
});
