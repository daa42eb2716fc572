import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../../models/generate/cli.ts';

function capture() {
  const io = { out: '', err: '' };
  return { io, streams: { out: { write: (t: string) => (io.out += t) }, err: { write: (t: string) => (io.err += t) } } };
}

describe('generate: models:generate command', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'reprise-generate-cli-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('writes a folder and lists what it wrote', async () => {
    const { io, streams } = capture();
    const out = path.join(root, 'tiny');
    const code = await main(['--size', 'tiny', '--layout', 'openclip', '--out', out, '--seed', '3'], streams);
    assert.equal(code, 0, io.err);
    assert.ok(existsSync(path.join(out, 'visual/model.onnx')));
    assert.match(io.out, /seed 3/);
    assert.match(io.out, /no tokenizer written/);
  });

  it('says what is wrong with its arguments and exits 1', async () => {
    const { io, streams } = capture();
    assert.equal(await main(['--size', 'huge', '--layout', 'onnx', '--seed', 'x'], streams), 1);
    assert.match(io.err, /--size must be one of tiny, vit-b-32/);
    assert.match(io.err, /--layout must be huggingface or openclip/);
    assert.match(io.err, /--out is required/);
    assert.match(io.err, /--seed must be an integer/);
    assert.equal(await main(['--bogus'], capture().streams), 1);
  });
});
