// Checkpoints in their own precision: F16 and BF16 tensors stay 16-bit in memory (one host copy, cast per
// use inside the graphs), sharded checkpoints load through their index, and the answers equal those of the
// same values held in float32.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  bf16ToF16,
  bf16ToF32,
  f16ToF32,
  f32ToF16,
  SafetensorsFile,
  writeSafetensors,
  type TensorToWrite,
} from '../../server/src/engine/io/safetensors';
import { inspectModel } from '../../server/src/engine/models/llava/inspect';
import { LlavaModel } from '../../server/src/engine/models/llava/model';
import { writeTinyLlava, type TinyLlavaSpec } from '../../server/src/engine/models/llava/random-checkpoint';
import { KEEP_16_BIT_FROM } from '../../server/src/engine/models/llava/weights';
import { packConceptBatch } from '../../server/src/engine/personalize/concept-batch';
import { f32 } from '../../server/src/engine/runtime/host-tensor';

// A vocabulary of 32,768 × hidden 32 makes embed_tokens and lm_head 1,048,576 elements: large enough to
// stay 16-bit, as every large tensor of a real checkpoint does.
const SPEC: TinyLlavaSpec = { text: { vocab: 32768 }, seed: 5 };

function checkpoint(spec: TinyLlavaSpec): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'yollava-prec-'));
  writeTinyLlava(dir, { ...SPEC, ...spec });
  return dir;
}

/** The same checkpoint with every tensor widened to F32 (the values are exactly the 16-bit ones). */
function widenedCopy(dir: string): string {
  const out = mkdtempSync(path.join(tmpdir(), 'yollava-prec-f32-'));
  writeTinyLlava(out, { ...SPEC });
  const tensors: Record<string, TensorToWrite> = {};
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.safetensors'))) {
    const f = SafetensorsFile.open(path.join(dir, name));
    for (const n of f.names())
      tensors[n] = { dtype: 'F32', shape: [...f.info(n).shape], data: f.readFloat32(n) };
    f.close();
  }
  writeSafetensors(path.join(out, 'model.safetensors'), tensors, { format: 'pt' });
  return out;
}

async function promptLogits(model: LlavaModel): Promise<Float32Array> {
  const v = model.config.vision;
  const pixels = f32(
    [1, 3, v.imageSize, v.imageSize],
    Array.from({ length: 3 * v.imageSize ** 2 }, (_, i) => Math.sin(i)),
  );
  const vision = await model.encodeImages(pixels);
  const N = model.config.imageTokens;
  const ids = [1, 7, ...new Array<number>(N).fill(model.config.imageTokenIndex), 300, 20000, 32000 - 5];
  const embeds = model.embed(ids, [vision.features.data as Float32Array]);
  return model.logits(embeds, 1, ids.length, [ids.length - 1]);
}

function maxRel(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  return d / s;
}

describe('weights in their stored precision', () => {
  for (const dtype of ['F16', 'BF16'] as const) {
    it(`${dtype}: large tensors stay 16-bit in memory, small ones float32, and the logits equal float32's`, async () => {
      const dir = checkpoint({ dtype });
      const model = LlavaModel.load(dir);
      const wide = LlavaModel.load(widenedCopy(dir));
      try {
        assert.equal(model.weights.get('lm_head.weight')!.dtype, 'float16');
        assert.equal(model.weights.get('lm.embed_tokens.weight')!.dtype, 'float16');
        assert.equal(model.weights.get('lm.norm.weight')!.dtype, 'float32');
        assert.ok(model.weights.get('lm_head.weight')!.data.length >= KEEP_16_BIT_FROM);
        const a = await promptLogits(model);
        const b = await promptLogits(wide);
        // F16: the same values, cast exactly; BF16: held as float16, exact in float16's normal range.
        const rel = maxRel(a, b);
        assert.ok(rel < (dtype === 'F16' ? 1e-6 : 1e-4), `max rel ${rel}`);
        const step = await model.decodeStep(model.embed([1, 7, 300]), { k: [], v: [], length: 0 });
        assert.equal(step.logits.length, 32768);
      } finally {
        await model.release();
        await wide.release();
      }
    });
  }

  it('a sharded checkpoint loads through model.safetensors.index.json, the same as one file', async () => {
    const one = checkpoint({ dtype: 'BF16' });
    const sharded = checkpoint({ dtype: 'BF16', shards: 3 });
    assert.deepEqual(
      readdirSync(sharded)
        .filter((f) => f.startsWith('model'))
        .sort(),
      [
        'model-00001-of-00003.safetensors',
        'model-00002-of-00003.safetensors',
        'model-00003-of-00003.safetensors',
        'model.safetensors.index.json',
      ],
    );
    const index = JSON.parse(readFileSync(path.join(sharded, 'model.safetensors.index.json'), 'utf8')) as {
      weight_map: Record<string, string>;
    };
    assert.equal(new Set(Object.values(index.weight_map)).size, 3);
    const a = LlavaModel.load(one);
    const b = LlavaModel.load(sharded);
    try {
      assert.equal(a.fingerprint(), b.fingerprint());
      assert.deepEqual(await promptLogits(a), await promptLogits(b));
    } finally {
      await a.release();
      await b.release();
    }
  });

  it("inspect counts 16-bit tensors at 2 bytes in the memory estimate, and the refusal's figure is that size", () => {
    const half = inspectModel(checkpoint({ dtype: 'BF16' }));
    const full = inspectModel(checkpoint({ dtype: 'F32' }));
    assert.equal(half.parameters, full.parameters);
    // embed_tokens and lm_head (2 × 1,048,576) at 2 bytes instead of 4.
    assert.equal(full.weightBytes - half.weightBytes, 2 * KEEP_16_BIT_FROM * 2);
  });
});

describe('16-bit conversions', () => {
  it('bfloat16 → float16 is exact in the normal range, and refuses values beyond ±65504', () => {
    const values = new Float32Array([0, 1, -2.5, 0.015625, 1e-3, 60000, -3.140625, 6.103515625e-5]);
    const bf = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++)
      bf[i] = new Uint16Array(values.subarray(i, i + 1).buffer, i * 4 + 2, 1)[0]!;
    const half = bf16ToF16(bf)!;
    assert.deepEqual(Array.from(f16ToF32(half)), Array.from(bf16ToF32(bf)));
    assert.equal(bf16ToF16(new Uint16Array([0x4780 /* 65536 */])), null);
    assert.deepEqual(Array.from(f16ToF32(f32ToF16(new Float32Array([65504, 1e-8])))), [65504, 0]);
  });
});

describe('an image size that is not a multiple of the patch size', () => {
  it("uses floor(image / patch) patches per side and never reads the remaining pixels (SigLIP's 384 px in 14 px patches)", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'yollava-patch-'));
    writeTinyLlava(dir, { vision: { imageSize: 30, patchSize: 7 }, seed: 3 });
    const model = LlavaModel.load(dir);
    try {
      assert.equal(model.config.vision.patchesPerSide, 4);
      assert.equal(model.config.imageTokens, 16);
      const pixels = Float32Array.from({ length: 3 * 30 * 30 }, (_, i) => Math.sin(i));
      const changed = pixels.slice();
      // The last two rows and columns of every channel lie past the last whole patch.
      for (let c = 0; c < 3; c++)
        for (let y = 0; y < 30; y++)
          for (let x = 0; x < 30; x++) if (y >= 28 || x >= 28) changed[c * 900 + y * 30 + x] = 5;
      const a = await model.encodeImages(f32([1, 3, 30, 30], pixels));
      const b = await model.encodeImages(f32([1, 3, 30, 30], changed));
      assert.deepEqual(a.features.shape, [1, 16, 32]);
      assert.deepEqual(
        Array.from(a.features.data as Float32Array),
        Array.from(b.features.data as Float32Array),
      );
      changed[0] = 5;
      const c = await model.encodeImages(f32([1, 3, 30, 30], changed));
      assert.notDeepEqual(
        Array.from(a.features.data as Float32Array),
        Array.from(c.features.data as Float32Array),
      );
    } finally {
      await model.release();
    }
  });
});

describe('a personalization step on 16-bit weights', () => {
  it('gives the gradients of the same weights in float32, with every layer weight cast again for the backward pass', async () => {
    // hidden 1024: every layer matrix has ≥ 2^20 elements, so all of them stay float16 and are cast per use.
    const spec: TinyLlavaSpec = {
      text: { hidden: 1024, intermediate: 1024, layers: 1, heads: 8, kvHeads: 8, vocab: 1024 },
      seed: 9,
    };
    const dir = mkdtempSync(path.join(tmpdir(), 'yollava-prec-step-'));
    writeTinyLlava(dir, { ...spec, dtype: 'F16' });
    const wideDir = mkdtempSync(path.join(tmpdir(), 'yollava-prec-step-f32-'));
    writeTinyLlava(wideDir, spec);
    const tensors: Record<string, TensorToWrite> = {};
    const f = SafetensorsFile.open(path.join(dir, 'model.safetensors'));
    for (const n of f.names())
      tensors[n] = { dtype: 'F32', shape: [...f.info(n).shape], data: f.readFloat32(n) };
    f.close();
    writeSafetensors(path.join(wideDir, 'model.safetensors'), tensors, { format: 'pt' });
    const half = LlavaModel.load(dir);
    const wide = LlavaModel.load(wideDir);
    try {
      assert.equal(half.weights.get('lm.layers.0.self_attn.q_proj.weight')!.dtype, 'float16');
      const D = 1024;
      const E = 3;
      const ids = [1, 5, 1024, 9, 1025, 1026, 11, 12, 1024, 13];
      const labels = ids.map((id, i) => (i < 6 ? -100 : id));
      const rows = Float32Array.from({ length: E * D }, (_, i) => Math.sin(i) * 0.05);
      const head = Float32Array.from({ length: E * D }, (_, i) => Math.cos(i) * 0.05);
      const step = (m: LlavaModel) =>
        m.conceptStep(packConceptBatch(m, [{ sample: { ids, labels }, features: [] }], rows, head));
      const a = await step(half);
      const b = await step(wide);
      assert.ok(Math.abs(a.loss - b.loss) < 1e-5 * Math.abs(b.loss), `loss ${a.loss} vs ${b.loss}`);
      assert.ok(maxRel(Float32Array.from(a.gradRows), Float32Array.from(b.gradRows)) < 1e-5);
      assert.ok(maxRel(Float32Array.from(a.gradHead), Float32Array.from(b.gradHead)) < 1e-5);
    } finally {
      await half.release();
      await wide.release();
    }
  });
});
