/**
 * Every file in ../shared/fixtures/models/ (real files of published exports, see its README),
 * loaded by Reprise's own code and checked against the values their publishers give. Where an
 * export's large files are absent, a stand-in takes their place and the test says so.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveModelFiles } from '../../models/layout.ts';
import { readModelConfig } from '../../models/model-config.ts';
import { findModel } from '../../models/registry.ts';
import { loadSession } from '../../models/session.ts';
import { buildClipTokenizerJson } from '../../models/tokenizer/build-clip-tokenizer-json.ts';
import { NO_NORMALISATION, siglipNormalisation } from '../../models/tokenizer/text-normalisation.ts';
import { TextTokenizer } from '../../models/tokenizer/text-tokenizer.ts';
import { ModelFolderError } from '../../models/types.ts';
import { fixture, requireFixtures } from '../support/fixtures.ts';

const real = (...parts: string[]) => fixture('models', ...parts);
const json = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Record<string, any>;
const OPENAI_MEAN = [0.48145466, 0.4578275, 0.40821073];
const OPENAI_STD = [0.26862954, 0.26130258, 0.27577711];
const OPENAI_TOKENIZER = 'openai-clip-vit-base-patch32-tokenizer';

/** A model folder in a temporary directory: real files linked in, stand-ins written where the export's files are absent. */
function folder(links: Record<string, string>, standIns: Record<string, string | object> = {}): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'reprise-real-'));
  for (const [rel, target] of Object.entries(links)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    symlinkSync(target, path.join(dir, rel));
  }
  for (const [rel, content] of Object.entries(standIns)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

/** Only their presence matters to the folder and config readers; nothing here runs them. */
const NO_TOWER = 'stand-in: the real ONNX tower is not in the fixtures';

describe('real published model files (../shared/fixtures/models)', function () {
  requireFixtures(this);
  this.timeout(60_000);

  describe(`${OPENAI_TOKENIZER}: openai/clip-vit-base-patch32's tokenizer files`, () => {
    const file = (name: string) => real(OPENAI_TOKENIZER, name);

    it('tokenizer.json holds vocab.json and merges.txt, byte-level BPE with 49,408 ids', () => {
      const tok = json(file('tokenizer.json'));
      const vocab = json(file('vocab.json'));
      assert.equal(tok.model.type, 'BPE');
      assert.equal(Object.keys(vocab).length, 49408);
      assert.deepEqual(tok.model.vocab, vocab);
      const merges = readFileSync(file('merges.txt'), 'utf8').split(/\r?\n/).filter((l) => l && !l.startsWith('#version'));
      assert.equal(merges.length, 48894);
      assert.deepEqual(tok.model.merges, merges);
    });

    it('special_tokens_map.json and tokenizer_config.json name the same tokens, and the tokenizer pads with <|endoftext|> (49407)', () => {
      const map = json(file('special_tokens_map.json'));
      const config = json(file('tokenizer_config.json'));
      for (const key of ['bos_token', 'eos_token', 'unk_token']) assert.equal(map[key].content, config[key].content, key);
      assert.equal(map.pad_token, config.pad_token);
      assert.equal(config.model_max_length, 77);
      const tokenizer = TextTokenizer.fromFiles(file('tokenizer.json'), file('tokenizer_config.json'), { contextLength: 77 });
      assert.equal(tokenizer.padTokenId, 49407);
      assert.deepEqual(tokenizer.prefixIds, [49406]);
      assert.deepEqual(tokenizer.suffixIds, [49407]);
    });

    it("gives OpenAI's reference ids (clip_data.json) and the same ids as a tokenizer built from OpenAI's merge list", () => {
      const tokenizer = TextTokenizer.fromFiles(file('tokenizer.json'), file('tokenizer_config.json'), { contextLength: 77 });
      const reference = json(fixture('clip', 'clip_data.json')) as { cases: string[]; tokenizer: number[][][] };
      const batch = tokenizer.encode(reference.cases, { pad: 'longest' });
      reference.cases.forEach((text, b) => {
        const expected = reference.tokenizer[b]![0]!;
        const length = batch.lengths[b]!;
        assert.deepEqual(Array.from(batch.ids.subarray(b * batch.seqLen, b * batch.seqLen + length)), expected.slice(0, length), text);
        assert.ok(expected.slice(length).every((id) => id === 0), 'OpenAI pads with 0 after the end token');
      });
      const built = TextTokenizer.fromJson(buildClipTokenizerJson(fixture('clip', 'bpe_simple_vocab_16e6.txt')), undefined, { contextLength: 77 });
      for (const text of ['a photo of a cat', 'Une CATHÉDRALE gothique, vers 1250 !', "L'Île-de-France  \t à l'aube", '東京の地図', 'x'.repeat(300)]) {
        assert.deepEqual(tokenizer.encodeOne(text), built.encodeOne(text), text);
      }
    });
  });

  describe('xenova-clip-vit-base-patch32: Xenova\'s CLIP config and preprocessor', () => {
    it('reads as OpenAI ViT-B/32: 512 dimensions, 77 tokens, 224 px shortest-edge resize and centre crop, bicubic, OpenAI mean/std', () => {
      const dir = folder(
        {
          'config.json': real('xenova-clip-vit-base-patch32', 'config.json'),
          'preprocessor_config.json': real('xenova-clip-vit-base-patch32', 'preprocessor_config.json'),
          'tokenizer.json': real(OPENAI_TOKENIZER, 'tokenizer.json'),
          'tokenizer_config.json': real(OPENAI_TOKENIZER, 'tokenizer_config.json'),
        },
        { 'onnx/vision_model.onnx': NO_TOWER, 'onnx/text_model.onnx': NO_TOWER },
      );
      const config = readModelConfig(resolveModelFiles(dir));
      assert.equal(config.modelId, 'openai/clip-vit-base-patch32', 'from _name_or_path');
      assert.equal(config.projectionDim, 512);
      assert.deepEqual(config.image, { size: 224, resizeMode: 'shortest-edge-crop', resample: 'bicubic', mean: OPENAI_MEAN, std: OPENAI_STD });
      assert.deepEqual(config.text, { contextLength: 77, padTokenId: 49407, padToContextLength: false, normalisation: NO_NORMALISATION });
    });
  });

  describe('xenova-siglip-base-patch16-224: Xenova\'s SigLIP config, preprocessor and tokenizer config', () => {
    it('reads as SigLIP base: 768 dimensions, 64 tokens padded to the end, 224 px squash, mean/std 0.5, punctuation stripped and lowercased', () => {
      const dir = folder(
        {
          'config.json': real('xenova-siglip-base-patch16-224', 'config.json'),
          'preprocessor_config.json': real('xenova-siglip-base-patch16-224', 'preprocessor_config.json'),
          'tokenizer_config.json': real('xenova-siglip-base-patch16-224', 'tokenizer_config.json'),
        },
        {
          // Stand-in: the real tokenizer.json (2.4 MB) is not in the fixtures; the pad token is found through tokenizer_config.
          'tokenizer.json': { model: { type: 'Unigram', vocab: [['<pad>', 0], ['</s>', 0], ['<unk>', 0]] } },
          'onnx/vision_model.onnx': NO_TOWER,
          'onnx/text_model.onnx': NO_TOWER,
        },
      );
      const tokenizerConfig = json(real('xenova-siglip-base-patch16-224', 'tokenizer_config.json'));
      const config = readModelConfig(resolveModelFiles(dir));
      assert.equal(config.modelId, 'nielsr/siglip-base-patch16-224');
      assert.equal(config.projectionDim, 768);
      assert.deepEqual(config.image, { size: 224, resizeMode: 'squash', resample: 'bicubic', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
      assert.equal(config.text.contextLength, tokenizerConfig.model_max_length);
      assert.equal(config.text.padTokenId, 1, '</s>, as added_tokens_decoder numbers it');
      assert.equal(config.text.padToContextLength, true);
      assert.deepEqual(config.text.normalisation, siglipNormalisation(true));
    });

    it("cleans text as SiglipTokenizer does before tokenizing (shown through the real CLIP tokenizer)", () => {
      const file = (name: string) => real(OPENAI_TOKENIZER, name);
      const tokenizer = TextTokenizer.fromFiles(file('tokenizer.json'), file('tokenizer_config.json'), { contextLength: 77, normalisation: siglipNormalisation(true) });
      assert.deepEqual(tokenizer.encodeOne('A photo,  of a CAT!'), tokenizer.encodeOne('a photo of a cat'));
      const plain = TextTokenizer.fromFiles(file('tokenizer.json'), file('tokenizer_config.json'), { contextLength: 77 });
      assert.notDeepEqual(plain.encodeOne('A photo,  of a CAT!'), plain.encodeOne('a photo of a cat'));
    });
  });

  describe('immich-ViT-B-32__openai: Immich\'s OpenCLIP config and preprocess_cfg', () => {
    it('reads as OpenAI ViT-B/32 in the OpenCLIP layout', () => {
      const dir = folder(
        {
          'config.json': real('immich-ViT-B-32__openai', 'config.json'),
          'visual/preprocess_cfg.json': real('immich-ViT-B-32__openai', 'visual', 'preprocess_cfg.json'),
          'textual/tokenizer.json': real(OPENAI_TOKENIZER, 'tokenizer.json'),
          'textual/tokenizer_config.json': real(OPENAI_TOKENIZER, 'tokenizer_config.json'),
        },
        { 'visual/model.onnx': NO_TOWER, 'textual/model.onnx': NO_TOWER },
      );
      const files = resolveModelFiles(dir);
      assert.equal(files.layout, 'openclip');
      const config = readModelConfig(files);
      assert.equal(config.projectionDim, 512);
      assert.deepEqual(config.image, { size: 224, resizeMode: 'shortest-edge-crop', resample: 'bicubic', mean: OPENAI_MEAN, std: OPENAI_STD });
      assert.deepEqual(config.text, { contextLength: 77, padTokenId: 49407, padToContextLength: false, normalisation: NO_NORMALISATION });
    });
  });

  describe('immich-XLM-Roberta-Large-Vit-B-16Plus: an Immich M-CLIP folder (configs, one weight file, LFS pointers)', () => {
    const mclip = (...parts: string[]) => real('immich-XLM-Roberta-Large-Vit-B-16Plus', ...parts);

    it('reads its configs: 640 dimensions, 240 px, XLM-R pad token <pad> (1)', () => {
      const dir = folder(
        {
          'config.json': mclip('config.json'),
          'visual/preprocess_cfg.json': mclip('visual', 'preprocess_cfg.json'),
          'textual/tokenizer_config.json': mclip('textual', 'tokenizer_config.json'),
          'textual/special_tokens_map.json': mclip('textual', 'special_tokens_map.json'),
        },
        {
          // Stand-in: the real XLM-R tokenizer.json (17 MB) is absent; its pad token is numbered by added_tokens_decoder.
          'textual/tokenizer.json': { model: { type: 'Unigram', vocab: [['<s>', 0], ['<pad>', 0], ['</s>', 0], ['<unk>', 0]] } },
          'visual/model.onnx': NO_TOWER,
          'textual/model.onnx': NO_TOWER,
        },
      );
      const config = readModelConfig(resolveModelFiles(dir));
      assert.equal(config.projectionDim, 640);
      assert.deepEqual(config.image, { size: 240, resizeMode: 'shortest-edge-crop', resample: 'bicubic', mean: OPENAI_MEAN, std: OPENAI_STD });
      assert.equal(config.text.contextLength, 77);
      assert.equal(config.text.padTokenId, 1);
      assert.equal(json(mclip('textual', 'special_tokens_map.json')).pad_token, '<pad>');
      assert.equal(json(mclip('textual', 'tokenizer_config.json')).tokenizer_class, 'XLMRobertaTokenizer');
    });

    it('names a Git LFS pointer where the model should be, for each of its pointers', async () => {
      for (const pointer of ['visual/model.onnx.LFS-POINTER.txt', 'textual/model.onnx.LFS-POINTER.txt']) {
        const dir = mkdtempSync(path.join(os.tmpdir(), 'reprise-lfs-'));
        const onnx = path.join(dir, 'model.onnx');
        copyFileSync(mclip(...pointer.split('/')), onnx);
        await assert.rejects(loadSession(onnx, { threads: 1, executionProvider: 'cpu' }), (err: Error) =>
          err instanceof ModelFolderError && /Git LFS pointer/.test(err.message) && err.message.includes(onnx));
      }
      // Every pointer is one, with the size the README gives for the absent tokenizer.
      const pointers = [...readdirSync(mclip('textual')), ...readdirSync(mclip('visual'))].filter((f) => f.endsWith('.LFS-POINTER.txt'));
      assert.equal(pointers.length, 5);
      assert.match(readFileSync(mclip('textual', 'tokenizer.json.LFS-POINTER.txt'), 'utf8'), /^version https:\/\/git-lfs\.github\.com\/spec\/v1\noid sha256:[0-9a-f]{64}\nsize 17082688\n/);
    });

    it('keeps its text weights as external data beside the graph, which a pull of the OpenCLIP layout fetches with the folder', () => {
      // xlm-roberta-large's intermediate layer: 4096 float32 biases.
      assert.equal(statSync(mclip('textual', 'transformer.encoder.layer.0.intermediate.dense.bias')).size, 4096 * 4);
      const listed = readFileSync(mclip('LS-TREE.txt'), 'utf8').split('\n').map((l) => l.split('\t')[1]).filter((f): f is string => Boolean(f));
      const entry = findModel('xlm-roberta-large-vit-b-32')!;
      for (const f of [...entry.commonFiles, ...entry.variantFiles.fp32!]) assert.ok(listed.includes(f), `${f} is in the Immich M-CLIP folder`);
      assert.deepEqual(entry.weightFolders, ['visual', 'textual']);
      assert.ok(listed.filter((f) => f!.startsWith('textual/transformer.encoder.layer.')).length >= 24, 'weights beside textual/model.onnx');
      assert.match(readFileSync(mclip('README.md'), 'utf8'), /M-CLIP\/XLM-Roberta-Large-Vit-B-16Plus/);
    });
  });
});
