import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { startServer, type RunningServer } from '../../cli/commands/serve.ts';
import { loadConfig } from '../../config/index.ts';

/** Writes raw bytes on a fresh connection and reads everything the server sends until it closes. */
function exchange(url: string, raw: string): Promise<{ text: string; error?: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(raw));
    let text = '';
    let error: string | undefined;
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    // A reset while the request is still going out is what this guards against: recorded, not thrown.
    socket.on('error', (err: NodeJS.ErrnoException) => (error = err.code ?? err.message));
    socket.on('close', () => resolve({ text, error }));
  });
}

function parseResponse(text: string): { status: number; headers: Record<string, string>; body: string } {
  const [head, ...rest] = text.split('\r\n\r\n');
  const [statusLine, ...lines] = head!.split('\r\n');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine!.split(' ')[1]), headers, body: rest.join('\r\n\r\n') };
}

/** `reprise serve`'s server, started without a model over an empty index: what it refuses needs neither. */
describe('reprise serve: requests refused before a route runs', function () {
  this.timeout(60_000);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'reprise-serve-errors-'));
  const images = path.join(dataDir, 'images');
  let running: RunningServer;

  before(async () => {
    mkdirSync(images);
    const config = loadConfig({ env: {}, overrides: { dataDir, 'api.port': 0 } });
    running = await startServer(config, { allowEmptyIndex: true, images, logger: pino({ level: 'silent' }) });
  });
  after(async () => {
    await running?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers headers over the limit with a 431 problem+json the client can read, whatever their size', async () => {
    for (const size of [20_000, 2_000_000]) {
      const { text, error } = await exchange(running.url, `GET /api/health HTTP/1.1\r\nHost: localhost\r\nX-Large: ${'a'.repeat(size)}\r\n\r\n`);
      assert.equal(error, undefined, `${size} bytes: the connection was reset`);
      const res = parseResponse(text);
      assert.equal(res.status, 431, text.slice(0, 300));
      assert.match(res.headers['content-type']!, /^application\/problem\+json/);
      assert.equal(Number(res.headers['content-length']), Buffer.byteLength(res.body));
      const problem = JSON.parse(res.body) as { type: string; status: number; detail: string };
      assert.equal(problem.type, 'urn:reprise:problem:headers-too-large');
      assert.equal(problem.status, 431);
      assert.match(problem.detail, /larger than the \d+ bytes this server reads; send fewer or shorter headers/);
    }
  });

  it('answers a request that is not HTTP with a 400 problem+json', async () => {
    const res = parseResponse((await exchange(running.url, 'HELLO THERE\r\n\r\n')).text);
    assert.equal(res.status, 400);
    assert.match(res.headers['content-type']!, /^application\/problem\+json/);
    assert.equal((JSON.parse(res.body) as { type: string }).type, 'urn:reprise:problem:malformed-request');
    // The server goes on answering.
    assert.equal((await fetch(`${running.url}/`, { headers: { Accept: 'application/json' } })).status, 200);
  });

  it('answers 400 for bad percent-encoding in every path it decodes: API routes in problem+json, IIIF images as the Image API does', async () => {
    const api = ['/api/items/%', '/api/items/%25%/similar', '/api/iiif/search/v1/%', '/api/iiif/search/v2/%E0%A4%A'];
    for (const p of api) {
      const res = await fetch(running.url + p);
      assert.equal(res.status, 400, `${p}: ${await res.clone().text()}`);
      assert.match(res.headers.get('content-type')!, /^application\/problem\+json/, p);
      assert.match(((await res.json()) as { detail: string }).detail, /not valid percent-encoding/, p);
    }
    // The publisher answers its errors in plain text, as the IIIF Image API describes them.
    for (const p of ['/iiif/3/%/info.json', '/iiif/2/%/full/max/0/default.jpg', '/iiif/manifest/%.json']) {
      const res = await fetch(running.url + p);
      assert.equal(res.status, 400, p);
      assert.match(await res.text(), /not valid percent-encoding/, p);
    }
  });
});
