import assert from 'node:assert/strict';
import { NO_NORMALISATION, siglipNormalisation } from '../../models/tokenizer/text-normalisation.ts';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { resolveModelFiles } from '../../models/layout.ts';
import { readModelConfig } from '../../models/model-config.ts';
import { inspectModelFolder } from '../../models/validate.ts';
import { ModelFolderError } from '../../models/types.ts';

// onnx-proto is CommonJS whose exports Node cannot name statically: take the namespace from the default export.
const { onnx } = onnxProto;

const FLOAT = 1;
const INT32 = 6;
const INT64 = 7;
type Dims = Array<number | string>;

function valueInfo(name: string, elemType: number, dims: Dims) {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType,
        shape: onnx.TensorShapeProto.create({
          dim: dims.map((d) => onnx.TensorShapeProto.Dimension.create(typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
        }),
      }),
    }),
  });
}

function floatInitializer(name: string, dims: number[]) {
  const n = dims.reduce((a, b) => a * b, 1);
  return onnx.TensorProto.create({ name, dataType: FLOAT, dims, floatData: Array.from({ length: n }, (_, i) => (i % 7) / 7) });
}

function ints(name: string, values: number[]) {
  return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: values });
}

function int(name: string, value: number) {
  return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i: value });
}

function model(nodes: unknown[], inputs: unknown[], outputs: unknown[], initializer: unknown[] = []): Uint8Array {
  const m = onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'reprise-test',
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: 13 })],
    graph: onnx.GraphProto.create({ name: 'tower', node: nodes as never[], input: inputs as never[], output: outputs as never[], initializer: initializer as never[] }),
  });
  return onnx.ModelProto.encode(m).finish();
}

interface VisionSpec {
  input?: string;
  dims?: Dims;
  output?: string;
  dim?: number;
  /** Channels-last input: average over height and width at axes 1 and 2. */
  nhwc?: boolean;
  /** Add a rank-3 last_hidden_state beside the embedding, as SigLIP exports do. */
  hiddenState?: boolean;
}

/** pixels → mean over the image → [batch, 3] × W[3, dim]: a real, runnable image tower in miniature. */
function visionTower(spec: VisionSpec = {}): Uint8Array {
  const input = spec.input ?? 'pixel_values';
  const dims = spec.dims ?? ['batch_size', 3, 224, 224];
  const dim = spec.dim ?? 512;
  const output = spec.output ?? 'image_embeds';
  const nodes = [
    onnx.NodeProto.create({ opType: 'ReduceMean', input: [input], output: ['pooled'], attribute: [ints('axes', spec.nhwc ? [1, 2] : [2, 3]), int('keepdims', 0)] }),
    onnx.NodeProto.create({ opType: 'MatMul', input: ['pooled', 'W'], output: [output] }),
  ];
  const outputs = [valueInfo(output, FLOAT, [dims[0]!, dim])];
  if (spec.hiddenState) {
    nodes.push(onnx.NodeProto.create({ opType: 'Unsqueeze', input: [output, 'axes1'], output: ['last_hidden_state'] }));
    outputs.unshift(valueInfo('last_hidden_state', FLOAT, [dims[0]!, 1, dim]));
  }
  const init = [floatInitializer('W', [3, dim])];
  if (spec.hiddenState) init.push(onnx.TensorProto.create({ name: 'axes1', dataType: INT64, dims: [1], int64Data: [1] }));
  return model(nodes, [valueInfo(input, FLOAT, dims)], outputs, init);
}

interface TextSpec {
  input?: string;
  elemType?: number;
  dims?: Dims;
  output?: string;
  dim?: number;
  mask?: boolean;
  hiddenState?: boolean;
}

/** ids → float → mean over tokens → [batch, 1] × W[1, dim]. */
function textTower(spec: TextSpec = {}): Uint8Array {
  const input = spec.input ?? 'input_ids';
  const dims = spec.dims ?? ['batch_size', 'sequence_length'];
  const dim = spec.dim ?? 512;
  const output = spec.output ?? 'text_embeds';
  const nodes = [
    onnx.NodeProto.create({ opType: 'Cast', input: [input], output: ['ids_f'], attribute: [int('to', FLOAT)] }),
    onnx.NodeProto.create({ opType: 'ReduceMean', input: ['ids_f'], output: ['pooled'], attribute: [ints('axes', [1]), int('keepdims', 1)] }),
    onnx.NodeProto.create({ opType: 'MatMul', input: ['pooled', 'W'], output: [output] }),
  ];
  const outputs = [valueInfo(output, FLOAT, [dims[0]!, dim])];
  const init = [floatInitializer('W', [1, dim])];
  if (spec.hiddenState) {
    nodes.push(onnx.NodeProto.create({ opType: 'Unsqueeze', input: [output, 'axes1'], output: ['last_hidden_state'] }));
    outputs.unshift(valueInfo('last_hidden_state', FLOAT, [dims[0]!, 1, dim]));
    init.push(onnx.TensorProto.create({ name: 'axes1', dataType: INT64, dims: [1], int64Data: [1] }));
  }
  const inputs = [valueInfo(input, spec.elemType ?? INT64, dims)];
  if (spec.mask) inputs.push(valueInfo('attention_mask', spec.elemType ?? INT64, dims));
  return model(nodes, inputs, outputs, init);
}

// Configuration files as the real exports write them (trimmed to the keys that matter).
const CLIP_CONFIG = {
  _name_or_path: 'openai/clip-vit-base-patch32',
  model_type: 'clip',
  projection_dim: 512,
  text_config: { bos_token_id: 0, eos_token_id: 2, pad_token_id: 1, max_position_embeddings: 77, model_type: 'clip_text_model' },
  vision_config: { image_size: 224, patch_size: 32, model_type: 'clip_vision_model' },
};
const CLIP_PREPROCESSOR = {
  crop_size: 224,
  do_center_crop: true,
  do_normalize: true,
  do_resize: true,
  feature_extractor_type: 'CLIPFeatureExtractor',
  image_mean: [0.48145466, 0.4578275, 0.40821073],
  image_std: [0.26862954, 0.26130258, 0.27577711],
  resample: 3,
  size: 224,
};
const CLIP_TOKENIZER = {
  version: '1.0',
  added_tokens: [
    { id: 49406, content: '<|startoftext|>', special: true },
    { id: 49407, content: '<|endoftext|>', special: true },
  ],
  model: { type: 'BPE', vocab: { '!': 0, '"': 1, '<|startoftext|>': 49406, '<|endoftext|>': 49407 } },
};
const CLIP_TOKENIZER_CONFIG = {
  bos_token: { content: '<|startoftext|>', __type: 'AddedToken' },
  eos_token: { content: '<|endoftext|>', __type: 'AddedToken' },
  pad_token: '<|endoftext|>',
  model_max_length: 77,
  tokenizer_class: 'CLIPTokenizer',
};
const SIGLIP_CONFIG = {
  _name_or_path: 'nielsr/siglip-base-patch16-224',
  model_type: 'siglip',
  text_config: { hidden_size: 768, model_type: 'siglip_text_model', vocab_size: 32000 },
  vision_config: { model_type: 'siglip_vision_model', patch_size: 16 },
};
const SIGLIP_PREPROCESSOR = {
  do_normalize: true,
  do_rescale: true,
  do_resize: true,
  image_processor_type: 'SiglipImageProcessor',
  image_mean: [0.5, 0.5, 0.5],
  image_std: [0.5, 0.5, 0.5],
  resample: 3,
  rescale_factor: 0.00392156862745098,
  size: { height: 224, width: 224 },
};
const SIGLIP_TOKENIZER = { model: { type: 'Unigram', vocab: [['<pad>', 0], ['</s>', 0], ['<unk>', 0], ['▁a', -3.2]] }, added_tokens: [] };
const OPENCLIP_CONFIG = {
  embed_dim: 512,
  vision_cfg: { image_size: 224, layers: 12, width: 768, patch_size: 32 },
  text_cfg: { context_length: 77, vocab_size: 49408, width: 512, heads: 8, layers: 12 },
};
const OPENCLIP_PREPROCESS = {
  size: [224, 224],
  mode: 'RGB',
  mean: [0.48145466, 0.4578275, 0.40821073],
  std: [0.26862954, 0.26130258, 0.27577711],
  interpolation: 'bicubic',
  resize_mode: 'shortest',
  fill_color: 0,
};

let tmp: string;
let counter = 0;

function folder(files: Record<string, unknown>): string {
  const dir = path.join(tmp, `model-${++counter}`);
  for (const [rel, content] of Object.entries(files)) {
    const full = path.join(dir, rel);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, content instanceof Uint8Array ? content : typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

function hfFolder(extra: Record<string, unknown> = {}, omit: string[] = []): string {
  const files: Record<string, unknown> = {
    'config.json': CLIP_CONFIG,
    'preprocessor_config.json': CLIP_PREPROCESSOR,
    'tokenizer.json': CLIP_TOKENIZER,
    'tokenizer_config.json': CLIP_TOKENIZER_CONFIG,
    'onnx/vision_model.onnx': visionTower(),
    'onnx/text_model.onnx': textTower(),
    ...extra,
  };
  for (const o of omit) delete files[o];
  return folder(files);
}

function openClipFolder(extra: Record<string, unknown> = {}, omit: string[] = []): string {
  const files: Record<string, unknown> = {
    'config.json': OPENCLIP_CONFIG,
    'visual/model.onnx': visionTower({ input: 'image', dims: [1, 3, 224, 224], output: 'embedding' }),
    'visual/preprocess_cfg.json': OPENCLIP_PREPROCESS,
    'visual/fp16/model.armnn': 'not onnx',
    'textual/model.onnx': textTower({ input: 'text', elemType: INT32, dims: [1, 77], output: 'embedding' }),
    'textual/tokenizer.json': CLIP_TOKENIZER,
    'textual/tokenizer_config.json': CLIP_TOKENIZER_CONFIG,
    ...extra,
  };
  for (const o of omit) delete files[o];
  return folder(files);
}

/** Asserts a ModelFolderError whose message matches every pattern. */
function rejectsWith(patterns: RegExp[], file?: string) {
  return (err: unknown) => {
    assert.ok(err instanceof ModelFolderError, `expected ModelFolderError, got ${String(err)}`);
    for (const p of patterns) assert.match(err.message, p);
    if (file !== undefined) assert.equal(err.file, file);
    return true;
  };
}

describe('model folders', () => {
  before(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'reprise-layout-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  describe('models/layout: resolveModelFiles', () => {
    it('finds a Hugging Face folder and every variant of each tower', () => {
      const dir = hfFolder({
        'onnx/vision_model_quantized.onnx': visionTower(),
        'onnx/text_model_quantized.onnx': textTower(),
        'onnx/vision_model_fp16.onnx': visionTower(),
        'onnx/text_model_fp16.onnx': textTower(),
        'onnx/vision_model_q4.onnx': visionTower(),
      });
      const files = resolveModelFiles(dir);
      assert.equal(files.layout, 'huggingface');
      assert.equal(files.visionModel, path.join(dir, 'onnx/vision_model.onnx'));
      assert.equal(files.textModel, path.join(dir, 'onnx/text_model.onnx'));
      assert.deepEqual(Object.keys(files.visionVariants).sort(), ['fp16', 'fp32', 'q4', 'quantized']);
      assert.deepEqual(Object.keys(files.textVariants).sort(), ['fp16', 'fp32', 'quantized']);
      assert.equal(files.config, path.join(dir, 'config.json'));
      assert.equal(files.preprocessConfig, path.join(dir, 'preprocessor_config.json'));
      assert.equal(files.tokenizer, path.join(dir, 'tokenizer.json'));
      assert.equal(files.tokenizerConfig, path.join(dir, 'tokenizer_config.json'));

      const quantized = resolveModelFiles(dir, { variant: 'quantized' });
      assert.equal(quantized.visionModel, path.join(dir, 'onnx/vision_model_quantized.onnx'));
      assert.equal(quantized.textModel, path.join(dir, 'onnx/text_model_quantized.onnx'));
    });

    it('finds an OpenCLIP / Immich folder, with an fp16 ONNX variant and armnn files ignored', () => {
      const dir = openClipFolder({ 'visual/model_fp16.onnx': visionTower(), 'textual/model_fp16.onnx': textTower() });
      const files = resolveModelFiles(dir);
      assert.equal(files.layout, 'openclip');
      assert.equal(files.visionModel, path.join(dir, 'visual/model.onnx'));
      assert.equal(files.textModel, path.join(dir, 'textual/model.onnx'));
      assert.equal(files.preprocessConfig, path.join(dir, 'visual/preprocess_cfg.json'));
      assert.equal(files.tokenizer, path.join(dir, 'textual/tokenizer.json'));
      assert.equal(files.tokenizerConfig, path.join(dir, 'textual/tokenizer_config.json'));
      assert.deepEqual(Object.keys(files.visionVariants).sort(), ['fp16', 'fp32']);
      assert.equal(resolveModelFiles(dir, { variant: 'fp16' }).visionModel, path.join(dir, 'visual/model_fp16.onnx'));
    });

    it('names each missing file and says how to get it', () => {
      const dir = hfFolder({}, ['tokenizer.json', 'onnx/text_model.onnx']);
      assert.throws(
        () => resolveModelFiles(dir),
        rejectsWith(
          [
            new RegExp(`missing ${escape(path.join(dir, 'tokenizer.json'))}, ${escape(path.join(dir, 'onnx/text_model.onnx'))}`),
            /reprise models pull <name>/,
            /place the files by hand in .* with this layout:\nHugging Face \/ transformers\.js layout/,
            /onnx\/vision_model\.onnx/,
          ],
          path.join(dir, 'tokenizer.json'),
        ),
      );
      const openclip = openClipFolder({}, ['visual/preprocess_cfg.json']);
      assert.throws(() => resolveModelFiles(openclip), rejectsWith([/missing .*visual\/preprocess_cfg\.json/, /OpenCLIP \/ Immich layout/]));
    });

    it('suggests the registry name when the folder is named after a known model', () => {
      const dir = path.join(tmp, 'clip-vit-base-patch32');
      mkdirSync(path.join(dir, 'onnx'), { recursive: true });
      assert.throws(() => resolveModelFiles(dir), rejectsWith([/run `reprise models pull clip-vit-base-patch32`/]));
    });

    it('lists the variants present when the requested one is absent', () => {
      const dir = hfFolder({ 'onnx/vision_model_quantized.onnx': visionTower(), 'onnx/text_model_quantized.onnx': textTower() });
      assert.throws(
        () => resolveModelFiles(dir, { variant: 'fp16' }),
        rejectsWith([/variant fp16 is not in/, /onnx\/vision_model_fp16\.onnx and onnx\/text_model_fp16\.onnx are missing/, /vision fp32, quantized; text fp32, quantized/, /Choose one of fp32, quantized/]),
      );
    });

    it('explains that a combined model.onnx is not supported', () => {
      const dir = hfFolder({ 'onnx/model.onnx': visionTower(), 'onnx/model_quantized.onnx': visionTower() }, ['onnx/vision_model.onnx', 'onnx/text_model.onnx']);
      assert.throws(() => resolveModelFiles(dir), rejectsWith([/is a combined CLIP graph/, /needs the two towers as separate files, onnx\/vision_model\.onnx and onnx\/text_model\.onnx/]));
    });

    it('says when the folder does not exist or is in neither layout', () => {
      assert.throws(() => resolveModelFiles(path.join(tmp, 'nowhere')), rejectsWith([/does not exist/, /OpenCLIP \/ Immich layout/]));
      const loose = folder({ 'model.onnx': visionTower(), 'config.json': CLIP_CONFIG });
      assert.throws(() => resolveModelFiles(loose), rejectsWith([/neither onnx\/ \(Hugging Face layout\) nor visual\/ and textual\//, /It has model\.onnx at the top level/]));
    });
  });

  describe('models/model-config: readModelConfig', () => {
    it('reads a Hugging Face CLIP folder, pad token from tokenizer_config resolved through tokenizer.json', () => {
      const config = readModelConfig(resolveModelFiles(hfFolder()));
      assert.equal(config.projectionDim, 512);
      assert.deepEqual(config.image, {
        size: 224,
        resizeMode: 'shortest-edge-crop',
        resample: 'bicubic',
        mean: CLIP_PREPROCESSOR.image_mean,
        std: CLIP_PREPROCESSOR.image_std,
      });
      // config.json's text_config.pad_token_id (1) is not the pad token; tokenizer_config's "<|endoftext|>" is.
      assert.deepEqual(config.text, { contextLength: 77, padTokenId: 49407, padToContextLength: false, normalisation: NO_NORMALISATION });
      assert.equal(config.modelId, 'openai/clip-vit-base-patch32');
    });

    it('reads newer transformers keys and the minimal configs transformers.js repos carry', () => {
      const dir = hfFolder({
        'config.json': { model_type: 'clip', projection_dim: 512, text_config: { model_type: 'clip_text_model' }, vision_config: {} },
        'preprocessor_config.json': { ...CLIP_PREPROCESSOR, size: { shortest_edge: 224 }, crop_size: { height: 224, width: 224 }, resample: 2 },
      });
      const config = readModelConfig(resolveModelFiles(dir));
      assert.equal(config.text.contextLength, 77);
      assert.equal(config.text.padToContextLength, false, 'CLIP pools at the end token: real length is enough');
      assert.equal(config.image.size, 224);
      assert.equal(config.image.resample, 'bilinear');
      assert.equal(config.modelId, path.basename(dir));
    });

    it('reads a SigLIP folder: no projection_dim, exact size (squash), SentencePiece pad token', () => {
      const dir = hfFolder({
        'config.json': SIGLIP_CONFIG,
        'preprocessor_config.json': SIGLIP_PREPROCESSOR,
        'tokenizer.json': SIGLIP_TOKENIZER,
        'tokenizer_config.json': { pad_token: '</s>', model_max_length: 64 },
        'onnx/vision_model.onnx': visionTower({ dim: 768, output: 'pooler_output', hiddenState: true }),
        'onnx/text_model.onnx': textTower({ dim: 768, output: 'pooler_output', hiddenState: true }),
      });
      const config = readModelConfig(resolveModelFiles(dir));
      assert.equal(config.projectionDim, 768);
      assert.equal(config.text.contextLength, 64);
      assert.equal(config.text.padToContextLength, true, 'SigLIP pools at the last position: always padded');
      assert.deepEqual(config.text.normalisation, siglipNormalisation(true), 'SiglipTokenizer canonicalizes and lowercases');
      assert.equal(config.text.padTokenId, 1);
      assert.equal(config.image.resizeMode, 'squash');
      assert.equal(config.image.size, 224);
      assert.equal(config.image.resample, 'bicubic');
      assert.deepEqual(config.image.mean, [0.5, 0.5, 0.5]);
      assert.ok(Math.abs(config.image.std[0] - 0.5) < 1e-9);
    });

    it('reads an OpenCLIP folder: embed_dim, text_cfg.context_length, preprocess_cfg', () => {
      const config = readModelConfig(resolveModelFiles(openClipFolder()));
      assert.equal(config.projectionDim, 512);
      assert.deepEqual(config.text, { contextLength: 77, padTokenId: 49407, padToContextLength: false, normalisation: NO_NORMALISATION });
      assert.deepEqual(config.image, { size: 224, resizeMode: 'shortest-edge-crop', resample: 'bicubic', mean: OPENCLIP_PREPROCESS.mean, std: OPENCLIP_PREPROCESS.std });
    });

    it('reads OpenCLIP SigLIP (squash) and M-CLIP-style configs (no context_length, XLM-R pad token)', () => {
      const siglip = openClipFolder({
        'config.json': { embed_dim: 768, vision_cfg: { image_size: 224 }, text_cfg: { context_length: 64, hf_tokenizer_name: 'timm/ViT-B-16-SigLIP' } },
        'visual/preprocess_cfg.json': { size: 224, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], interpolation: 'bicubic', resize_mode: 'squash' },
      });
      const s = readModelConfig(resolveModelFiles(siglip));
      assert.equal(s.image.resizeMode, 'squash');
      assert.equal(s.text.contextLength, 64);
      assert.equal(s.text.padToContextLength, true, 'a SigLIP text tower reads its last position: always padded');

      const mclip = openClipFolder({
        'config.json': { embed_dim: 512, vision_cfg: { image_size: 224 }, text_cfg: { hf_model_name: 'xlm-roberta-large' } },
        'visual/preprocess_cfg.json': { size: 224 },
        'textual/tokenizer.json': { added_tokens: [{ id: 0, content: '<s>' }, { id: 1, content: '<pad>' }, { id: 2, content: '</s>' }] },
        'textual/tokenizer_config.json': { pad_token: '<pad>' },
      });
      const m = readModelConfig(resolveModelFiles(mclip));
      assert.equal(m.text.contextLength, 77);
      assert.equal(m.text.padTokenId, 1);
      // open_clip's defaults where preprocess_cfg leaves keys out.
      assert.equal(m.image.resizeMode, 'shortest-edge-crop');
      assert.deepEqual(m.image.mean, OPENCLIP_PREPROCESS.mean);
    });

    it('pads with 0 when nothing names a pad token, as OpenAI\'s tokenizer does', () => {
      const dir = hfFolder({}, ['tokenizer_config.json']);
      assert.equal(readModelConfig(resolveModelFiles(dir)).text.padTokenId, 0);
    });

    it('folds a rescale other than 1/255 into mean and std', () => {
      const dir = hfFolder({ 'preprocessor_config.json': { ...CLIP_PREPROCESSOR, do_rescale: false } });
      const { image } = readModelConfig(resolveModelFiles(dir));
      assert.ok(Math.abs(image.mean[0] - 0.48145466 / 255) < 1e-12);
      assert.ok(Math.abs(image.std[2] - 0.27577711 / 255) < 1e-12);
    });

    it('takes the model id from the pull manifest, with the variant when not fp32', () => {
      const dir = hfFolder({
        'reprise-model.json': { name: 'clip-vit-base-patch32', repo: 'Xenova/clip-vit-base-patch32', revision: 'main', files: [] },
        'onnx/vision_model_quantized.onnx': visionTower(),
        'onnx/text_model_quantized.onnx': textTower(),
      });
      assert.equal(readModelConfig(resolveModelFiles(dir)).modelId, 'Xenova/clip-vit-base-patch32');
      assert.equal(readModelConfig(resolveModelFiles(dir, { variant: 'quantized' })).modelId, 'Xenova/clip-vit-base-patch32@quantized');
    });

    it('puts the pulled commit in the model id, so that a re-uploaded model is a different model', () => {
      const manifest = (commit: string) => ({
        'reprise-model.json': { name: 'clip-vit-base-patch32', repo: 'Xenova/clip-vit-base-patch32', revision: 'main', commit, files: [] },
        'onnx/vision_model_quantized.onnx': visionTower(),
        'onnx/text_model_quantized.onnx': textTower(),
      });
      const before = hfFolder(manifest('4c1807b705b1d015fb032789cc4d221b23025a6f'));
      const after = hfFolder(manifest('0b95b21aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'));
      assert.equal(readModelConfig(resolveModelFiles(before)).modelId, 'Xenova/clip-vit-base-patch32@4c1807b705b1');
      assert.equal(readModelConfig(resolveModelFiles(before, { variant: 'quantized' })).modelId, 'Xenova/clip-vit-base-patch32@4c1807b705b1@quantized');
      assert.notEqual(readModelConfig(resolveModelFiles(after)).modelId, readModelConfig(resolveModelFiles(before)).modelId);
    });

    const badCases: Array<[string, Record<string, unknown>, RegExp, string]> = [
      ['crop different from resize', { 'preprocessor_config.json': { ...CLIP_PREPROCESSOR, size: 256 } }, /preprocessor_config\.json: crop_size is 224 but the short side is resized to 256/, 'preprocessor_config.json'],
      ['unknown resample code', { 'preprocessor_config.json': { ...CLIP_PREPROCESSOR, resample: 5 } }, /preprocessor_config\.json: resample is 5; supported: 3 or "bicubic"/, 'preprocessor_config.json'],
      ['two-value mean', { 'preprocessor_config.json': { ...CLIP_PREPROCESSOR, image_mean: [0.5, 0.5] } }, /preprocessor_config\.json: image_mean must be three numbers/, 'preprocessor_config.json'],
      ['zero std', { 'preprocessor_config.json': { ...CLIP_PREPROCESSOR, image_std: [0.2, 0, 0.2] } }, /image_std must be three positive numbers/, 'preprocessor_config.json'],
      ['non-square size', { 'preprocessor_config.json': { ...SIGLIP_PREPROCESSOR, size: { height: 224, width: 256 } } }, /size is 256x224; only square model inputs/, 'preprocessor_config.json'],
      ['size missing', { 'preprocessor_config.json': { ...CLIP_PREPROCESSOR, size: undefined } }, /preprocessor_config\.json: size is missing/, 'preprocessor_config.json'],
      ['projection_dim not a number', { 'config.json': { ...CLIP_CONFIG, projection_dim: '512' } }, /config\.json: projection_dim must be a positive integer, got "512"/, 'config.json'],
      ['unknown model type without projection_dim', { 'config.json': { model_type: 'blip' } }, /config\.json: projection_dim is missing and model_type "blip" has no known default/, 'config.json'],
      ['image_size disagreeing with the preprocessor', { 'config.json': { ...CLIP_CONFIG, vision_config: { image_size: 336 } } }, /vision_config\.image_size is 336 but .*preprocessor_config\.json prepares 224x224/, 'config.json'],
      ['pad token not in the vocabulary', { 'tokenizer_config.json': { pad_token: '<pad>' } }, /tokenizer_config\.json: pad_token is "<pad>", which is not a token of/, 'tokenizer_config.json'],
      ['invalid JSON', { 'config.json': '{ "model_type": "clip", ' }, /config\.json is not valid JSON/, 'config.json'],
    ];
    for (const [title, files, pattern, file] of badCases) {
      it(`names the file and key: ${title}`, () => {
        const dir = hfFolder(files);
        assert.throws(() => readModelConfig(resolveModelFiles(dir)), rejectsWith([pattern], path.join(dir, file)));
      });
    }

    const badOpenClip: Array<[string, Record<string, unknown>, RegExp, string]> = [
      ['embed_dim missing', { 'config.json': { text_cfg: {} } }, /config\.json: embed_dim is missing/, 'config.json'],
      ['resize_mode longest', { 'visual/preprocess_cfg.json': { ...OPENCLIP_PREPROCESS, resize_mode: 'longest' } }, /preprocess_cfg\.json: resize_mode is "longest"; supported: "shortest"/, 'visual/preprocess_cfg.json'],
      ['unknown interpolation', { 'visual/preprocess_cfg.json': { ...OPENCLIP_PREPROCESS, interpolation: 'lanczos' } }, /preprocess_cfg\.json: interpolation is "lanczos"/, 'visual/preprocess_cfg.json'],
      ['rectangular size', { 'visual/preprocess_cfg.json': { ...OPENCLIP_PREPROCESS, size: [224, 240] } }, /preprocess_cfg\.json: size is 240x224/, 'visual/preprocess_cfg.json'],
      ['negative context length', { 'config.json': { embed_dim: 512, text_cfg: { context_length: -1 } } }, /config\.json: text_cfg\.context_length must be a positive integer/, 'config.json'],
    ];
    for (const [title, files, pattern, file] of badOpenClip) {
      it(`names the file and key (OpenCLIP): ${title}`, () => {
        const dir = openClipFolder(files);
        assert.throws(() => readModelConfig(resolveModelFiles(dir)), rejectsWith([pattern], path.join(dir, file)));
      });
    }
  });

  describe('models/validate: inspectModelFolder', () => {
    it('accepts a Hugging Face CLIP folder and reports its inputs and outputs', async () => {
      const files = resolveModelFiles(hfFolder());
      const report = await inspectModelFolder(files, readModelConfig(files));
      assert.equal(report.vision.input, 'pixel_values');
      assert.equal(report.vision.output, 'image_embeds');
      assert.deepEqual(report.vision.inputs, [{ name: 'pixel_values', type: 'float32', shape: ['batch_size', 3, 224, 224] }]);
      assert.equal(report.vision.fixedBatch, undefined);
      assert.equal(report.text.input, 'input_ids');
      assert.equal(report.text.output, 'text_embeds');
    });

    it('accepts an Immich export: fixed batch of 1, int32 text of exactly 77 tokens', async () => {
      const files = resolveModelFiles(openClipFolder());
      const report = await inspectModelFolder(files, readModelConfig(files));
      assert.equal(report.vision.fixedBatch, 1);
      assert.equal(report.text.fixedBatch, 1);
      assert.equal(report.text.input, 'text');
      assert.equal(report.vision.output, 'embedding');
    });

    it('accepts M-CLIP text towers with an attention mask', async () => {
      const dir = openClipFolder({ 'textual/model.onnx': textTower({ dims: [1, 77], elemType: INT32, output: 'embedding', mask: true }) });
      const files = resolveModelFiles(dir);
      await inspectModelFolder(files, readModelConfig(files));
    });

    it('takes SigLIP\'s pooler_output beside a rank-3 hidden state', async () => {
      const dir = hfFolder({
        'config.json': SIGLIP_CONFIG,
        'preprocessor_config.json': SIGLIP_PREPROCESSOR,
        'tokenizer.json': SIGLIP_TOKENIZER,
        'tokenizer_config.json': { pad_token: '</s>' },
        'onnx/vision_model.onnx': visionTower({ dim: 768, output: 'pooler_output', hiddenState: true }),
        'onnx/text_model.onnx': textTower({ dim: 768, output: 'pooler_output', hiddenState: true }),
      });
      const files = resolveModelFiles(dir);
      const report = await inspectModelFolder(files, readModelConfig(files));
      assert.equal(report.vision.output, 'pooler_output');
      assert.equal(report.text.output, 'pooler_output');
    });

    it('names the file and the shape when the image side differs from the config', async () => {
      const dir = hfFolder({ 'onnx/vision_model.onnx': visionTower({ dims: ['batch', 3, 256, 256] }) });
      const files = resolveModelFiles(dir);
      await assert.rejects(
        inspectModelFolder(files, readModelConfig(files)),
        rejectsWith([new RegExp(`${escape(files.visionModel)}: image input pixel_values has height 256 \\[batch, 3, 256, 256\\] but the preprocessing config gives 224`)], files.visionModel),
      );
    });

    it('names a projection dimension that differs from config.json, for both towers', async () => {
      const dir = hfFolder({ 'onnx/vision_model.onnx': visionTower({ dim: 256 }), 'onnx/text_model.onnx': textTower({ dim: 256 }) });
      const files = resolveModelFiles(dir);
      await assert.rejects(
        inspectModelFolder(files, readModelConfig(files)),
        rejectsWith([
          /vision_model\.onnx: embedding output image_embeds has 256 dimensions \[batch_size, 256\] but config\.json gives an embedding dimension of 512/,
          /text_model\.onnx: embedding output text_embeds has 256 dimensions/,
        ]),
      );
    });

    it('rejects channels-last images, float text input, and a static token count other than the context length', async () => {
      const nhwc = hfFolder({ 'onnx/vision_model.onnx': visionTower({ dims: ['batch', 224, 224, 3], nhwc: true }) });
      let files = resolveModelFiles(nhwc);
      await assert.rejects(inspectModelFolder(files, readModelConfig(files)), rejectsWith([/image input pixel_values is \[batch, 224, 224, 3\], channels last/]));

      const floatText = hfFolder({ 'onnx/text_model.onnx': textTower({ elemType: FLOAT }) });
      files = resolveModelFiles(floatText);
      await assert.rejects(inspectModelFolder(files, readModelConfig(files)), rejectsWith([/text_model\.onnx: text input input_ids is float32; expected int32 or int64 token ids/]));

      const short = hfFolder({ 'onnx/text_model.onnx': textTower({ dims: ['batch', 64] }) });
      files = resolveModelFiles(short);
      await assert.rejects(inspectModelFolder(files, readModelConfig(files)), rejectsWith([/text input input_ids takes exactly 64 tokens \[batch, 64\] but the config gives a context length of 77/]));
    });

    it('says when the towers are swapped', async () => {
      const dir = hfFolder({ 'onnx/vision_model.onnx': textTower(), 'onnx/text_model.onnx': visionTower() });
      const files = resolveModelFiles(dir);
      await assert.rejects(
        inspectModelFolder(files, readModelConfig(files)),
        rejectsWith([/vision_model\.onnx: no image input .*It takes token ids: is this the text tower/, /text_model\.onnx: no token-id input .*It takes images: is this the image tower/]),
      );
    });

    it('names a corrupt or truncated ONNX file', async () => {
      const good = visionTower();
      const dir = hfFolder({ 'onnx/vision_model.onnx': good.subarray(0, good.length >> 1) });
      const files = resolveModelFiles(dir);
      await assert.rejects(inspectModelFolder(files, readModelConfig(files)), rejectsWith([/vision_model\.onnx cannot be opened by onnxruntime/, /truncated or corrupt/], files.visionModel));
    });

    it('recognises a Git LFS pointer left by a clone without git-lfs', async () => {
      const pointer = 'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a2144\nsize 87996800\n';
      const dir = hfFolder({ 'onnx/text_model.onnx': pointer });
      const files = resolveModelFiles(dir);
      await assert.rejects(inspectModelFolder(files, readModelConfig(files)), rejectsWith([/text_model\.onnx is a Git LFS pointer, not the model/, /git lfs pull/], files.textModel));
    });
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
