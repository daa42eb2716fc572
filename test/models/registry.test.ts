import assert from 'node:assert/strict';
import { findModel, isPinned, MODEL_REGISTRY, MODEL_VARIANTS, variantsOf } from '../../models/registry.ts';
import { modelsSchema } from '../../config/schema.ts';

describe('models/registry', () => {
  it('every entry has the fields `reprise models list` and `pull` rely on', () => {
    for (const m of MODEL_REGISTRY) {
      const at = `entry ${m.name}`;
      assert.match(m.name, /^[a-z0-9][a-z0-9.-]*$/, `${at}: name is lower-case, usable as a folder name`);
      assert.match(m.repo, /^[\w.-]+\/[\w.-]+$/, `${at}: repo is owner/name`);
      assert.ok(m.revision.length > 0, `${at}: revision`);
      assert.ok(m.layout === 'huggingface' || m.layout === 'openclip', `${at}: layout`);
      assert.ok(Number.isInteger(m.embeddingDim) && m.embeddingDim > 0, `${at}: embeddingDim`);
      assert.ok(Number.isInteger(m.imageSize) && m.imageSize > 0, `${at}: imageSize`);
      assert.ok(m.languages.length > 0, `${at}: languages`);
      assert.ok(m.licence.length > 0, `${at}: licence`);
      assert.match(m.sourceUrl, /^https:\/\//, `${at}: sourceUrl`);
      assert.ok(m.whenToChoose.length > 10 && !m.whenToChoose.includes('\n'), `${at}: one-line whenToChoose`);

      const variants = variantsOf(m);
      assert.ok(variants.includes('fp32'), `${at}: offers fp32`);
      for (const v of variants) {
        const towers = m.variantFiles[v]!;
        assert.equal(towers.length, 2, `${at} ${v}: two towers`);
        assert.ok(towers.every((f) => f.endsWith('.onnx')), `${at} ${v}: towers are ONNX files`);
        assert.ok(typeof m.approxDownloadMB[v] === 'number' && m.approxDownloadMB[v]! > 0, `${at} ${v}: approximate size`);
      }
      const all = [...m.commonFiles, ...variants.flatMap((v) => m.variantFiles[v]!)];
      assert.equal(new Set(all).size, all.length, `${at}: no file listed twice`);
      for (const f of all) assert.ok(!f.startsWith('/') && !f.split('/').includes('..'), `${at}: ${f} is a plain relative path`);

      if (m.layout === 'huggingface') {
        for (const f of ['config.json', 'preprocessor_config.json', 'tokenizer.json']) assert.ok(m.commonFiles.includes(f), `${at}: ${f}`);
        assert.deepEqual(m.variantFiles.fp32, ['onnx/vision_model.onnx', 'onnx/text_model.onnx'], `${at}: separate towers, not a combined model.onnx`);
      } else {
        for (const f of ['config.json', 'visual/preprocess_cfg.json', 'textual/tokenizer.json']) assert.ok(m.commonFiles.includes(f), `${at}: ${f}`);
        assert.deepEqual(m.variantFiles.fp32, ['visual/model.onnx', 'textual/model.onnx'], `${at}: towers`);
      }
    }
  });

  it('pins every entry to a full commit id, the default model included', () => {
    assert.ok(isPinned(findModel(modelsSchema.parse({}).name)!), 'the default model is pinned');
    assert.deepEqual(MODEL_REGISTRY.filter((m) => !isPinned(m)).map((m) => m.name), []);
    // B/16's pinned commit predates its vision tower's fp16 upload: it offers what that commit holds.
    assert.deepEqual(variantsOf(findModel('clip-vit-base-patch16')!), ['fp32', 'quantized']);
    // The multilingual model's pin is the commit that deleted the earlier upload's external-data files.
    assert.equal(findModel('xlm-roberta-large-vit-b-32')!.revision, 'ffb654c8551665771aee2dc00057651576fdea2c');
  });

  it('names are unique, and so are repositories', () => {
    const names = MODEL_REGISTRY.map((m) => m.name);
    assert.equal(new Set(names).size, names.length);
    const repos = MODEL_REGISTRY.map((m) => m.repo.toLowerCase());
    assert.equal(new Set(repos).size, repos.length);
  });

  it('covers what the project promises: OpenAI B/32 and B/16, a multilingual and a SigLIP model', () => {
    assert.ok(findModel('clip-vit-base-patch32'));
    assert.ok(findModel('clip-vit-base-patch16'));
    assert.ok(MODEL_REGISTRY.some((m) => m.languages.some((l) => /multilingual/.test(l))));
    assert.ok(MODEL_REGISTRY.some((m) => /siglip/i.test(m.repo)));
  });

  it('the configured default model is in the registry, with the default variant', () => {
    const defaults = modelsSchema.parse({});
    const entry = findModel(defaults.name);
    assert.ok(entry, `models.name default "${defaults.name}" must be pullable`);
    assert.ok(variantsOf(entry).includes(defaults.variant));
    assert.deepEqual([...MODEL_VARIANTS].sort(), [...modelsSchema.shape.variant.unwrap().options].sort());
  });

  it('finds entries by name or repository, case-insensitively', () => {
    assert.equal(findModel('Xenova/CLIP-vit-base-patch32')?.name, 'clip-vit-base-patch32');
    assert.equal(findModel(' CLIP-VIT-BASE-PATCH16 ')?.name, 'clip-vit-base-patch16');
    assert.equal(findModel('no-such-model'), undefined);
  });
});
