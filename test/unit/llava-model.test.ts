// LLaVA on the engine: the golden checkpoint made by Hugging Face transformers, and generated checkpoints
// whose configs differ from it (the implementation must follow config.json and nothing else).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, readFileSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runGoldenCheck } from '../../server/src/engine/checks/golden-check';
import { LlavaModel, emptyCache } from '../../server/src/engine/models/llava/model';
import {
  tinyLlavaConfig,
  writeTinyLlava,
  type TinyLlavaSpec,
} from '../../server/src/engine/models/llava/random-checkpoint';
import { ModelConfigError } from '../../server/src/engine/models/llava/config';
import { f32 } from '../../server/src/engine/runtime/host-tensor';
import { generateTokens } from '../../server/src/engine/generate/generate';
import { Rng } from '../helpers/rng';

const GOLDEN = path.join(__dirname, '..', 'fixtures', 'golden', 'llava-tiny-A');

describe('golden: llava-tiny-A against transformers 4.45.1', () => {
  for (const convention of ['expanded', 'legacy'] as const) {
    it(`matches features, embeddings, logits, loss, gradients and greedy tokens (${convention} image tokens)`, async () => {
      const r = await runGoldenCheck(GOLDEN, convention);
      for (const c of r.comparisons) assert.ok(c.ok, `${c.name}: max rel ${c.maxRel} > ${c.tolerance}`);
      assert.deepEqual(r.tokens.actual, r.tokens.expected);
      assert.equal(r.comparisons.length, 7);
    });
  }
});

function tinyModel(spec: TinyLlavaSpec): LlavaModel {
  const dir = mkdtempSync(path.join(tmpdir(), 'yollava-tiny-'));
  writeTinyLlava(dir, spec);
  return LlavaModel.load(dir);
}

function randomPixels(model: LlavaModel, images: number, seed: number) {
  const v = model.config.vision;
  const rng = new Rng(seed);
  return f32(
    [images, 3, v.imageSize, v.imageSize],
    Array.from({ length: images * 3 * v.imageSize ** 2 }, () => rng.normal()),
  );
}

/** Forward logits at every position vs. a KV-cache prefill of the first part and single-token steps after. */
async function checkCacheMatchesForward(
  model: LlavaModel,
  ids: number[],
  features: Float32Array[],
): Promise<number> {
  const embeds = model.embed(ids, features);
  const T = ids.length;
  const D = model.hidden;
  const V = model.vocab;
  const full = await model.logits(
    embeds,
    1,
    T,
    Array.from({ length: T }, (_, i) => i),
  );
  const split = T - 4;
  let step = await model.decodeStep(embeds.subarray(0, split * D), emptyCache());
  let worst = 0;
  const cmp = (pos: number, logits: Float32Array): void => {
    for (let j = 0; j < V; j++) worst = Math.max(worst, Math.abs(logits[j]! - full[pos * V + j]!));
  };
  cmp(split - 1, step.logits);
  for (let t = split; t < T; t++) {
    step = await model.decodeStep(embeds.subarray(t * D, (t + 1) * D), step.cache);
    cmp(t, step.logits);
  }
  assert.equal(step.cache.length, T);
  return worst;
}

describe('generated checkpoints: configs other than the golden one', () => {
  const variants: [string, TinyLlavaSpec, number][] = [
    ['the golden-like default (grouped kv heads)', {}, 25],
    ['no grouped kv heads', { text: { kvHeads: 4 } }, 25],
    ['vision_feature_select_strategy "full"', { selectStrategy: 'full' }, 26],
    ['vision_feature_layer -1', { featureLayer: -1 }, 25],
    ['another rope_theta', { text: { ropeTheta: 500 } }, 25],
    ['another image size', { vision: { imageSize: 24, patchSize: 8 } }, 9],
    ['several feature layers, concatenated', { featureLayer: [-2, -1] }, 25],
    ['a qwen2 language model (q/k/v biases)', { text: { modelType: 'qwen2' } }, 25],
  ];
  for (const [name, spec, tokens] of variants) {
    it(`${name}: ${tokens} image tokens, and the KV cache reproduces the forward logits`, async () => {
      const model = tinyModel({ ...spec, seed: 99 });
      try {
        assert.equal(model.config.imageTokens, tokens);
        const vision = await model.encodeImages(randomPixels(model, 2, 5));
        assert.deepEqual(vision.features.shape, [2, tokens, model.hidden]);
        const norms = [0, 1].map((b) =>
          Math.hypot(
            ...Array.from(vision.pooled.data as Float32Array).slice(
              b * vision.pooled.shape[1]!,
              (b + 1) * vision.pooled.shape[1]!,
            ),
          ),
        );
        norms.forEach((n) => assert.ok(Math.abs(n - 1) < 1e-5, `pooled embedding norm ${n}`));
        const img = (vision.features.data as Float32Array).slice(0, tokens * model.hidden);
        const ids = [
          1,
          5,
          9,
          ...new Array<number>(tokens).fill(model.config.imageTokenIndex),
          17,
          33,
          8,
          60,
          42,
          11,
          7,
        ];
        const worst = await checkCacheMatchesForward(model, ids, [img]);
        assert.ok(worst < 1e-4, `KV-cache logits differ from the forward pass by ${worst}`);
      } finally {
        await model.release();
      }
    });
  }

  it('the config decides: rope_theta and the feature layer change the outputs', async () => {
    const base = tinyModel({ seed: 3 });
    const rope = tinyModel({ seed: 3, text: { ropeTheta: 50 } });
    const layer = tinyModel({ seed: 3, featureLayer: -1 });
    try {
      const ids = [1, 4, 8, 15, 16, 23, 42];
      const a = await base.logits(base.embed(ids), 1, ids.length, [6]);
      const b = await rope.logits(rope.embed(ids), 1, ids.length, [6]);
      assert.ok(
        a.some((v, i) => Math.abs(v - b[i]!) > 1e-3),
        'rope_theta had no effect',
      );
      const px = randomPixels(base, 1, 8);
      const fa = (await base.encodeImages(px)).selected.data as Float32Array;
      const fb = (await layer.encodeImages(px)).selected.data as Float32Array;
      assert.ok(
        fa.some((v, i) => Math.abs(v - fb[i]!) > 1e-3),
        'vision_feature_layer had no effect',
      );
    } finally {
      await Promise.all([base.release(), rope.release(), layer.release()]);
    }
  });

  it('a right-padded batch gives each sequence the logits it gets alone', async () => {
    const model = tinyModel({ seed: 11 });
    try {
      const a = [1, 7, 9, 21, 30, 2];
      const b = [1, 44, 12];
      const D = model.hidden;
      const V = model.vocab;
      const T = a.length;
      const embeds = new Float32Array(2 * T * D);
      embeds.set(model.embed(a), 0);
      embeds.set(model.embed(b), T * D);
      const mask = [...a.map(() => 1), ...b.map(() => 1), ...new Array(T - b.length).fill(0)];
      const batched = await model.logits(embeds, 2, T, [T - 1, T + b.length - 1], undefined, mask);
      const aloneA = await model.logits(model.embed(a), 1, a.length, [a.length - 1]);
      const aloneB = await model.logits(model.embed(b), 1, b.length, [b.length - 1]);
      for (let j = 0; j < V; j++) {
        assert.ok(Math.abs(batched[j]! - aloneA[j]!) < 1e-4);
        assert.ok(Math.abs(batched[V + j]! - aloneB[j]!) < 1e-4);
      }
    } finally {
      await model.release();
    }
  });

  it('train gradients for added head rows match finite differences of the loss', async () => {
    const model = tinyModel({ seed: 21 });
    try {
      const D = model.hidden;
      const V = model.vocab;
      const rng = new Rng(4);
      const ids = [1, 10, 20, 30, 40, 50];
      const extra = Float32Array.from({ length: 2 * D }, () => rng.normal() * 0.3);
      const embeds = model.embed(ids);
      const batch = {
        embeds,
        batch: 1,
        seq: ids.length,
        labelPositions: [2, 3, 4],
        labelIds: [V, 31, V + 1],
        extraHead: extra,
      };
      const r = await model.trainStep(batch);
      assert.equal(r.gradExtraHead.length, 2 * D);
      const h = 1e-2;
      for (const k of [0, 5, D + 3]) {
        const plus = extra.slice();
        plus[k] += h;
        const minus = extra.slice();
        minus[k] -= h;
        const lp = (await model.trainStep({ ...batch, extraHead: plus })).loss;
        const lm = (await model.trainStep({ ...batch, extraHead: minus })).loss;
        const numeric = (lp - lm) / (2 * h);
        assert.ok(
          Math.abs(numeric - r.gradExtraHead[k]!) < 2e-3 * Math.max(1, Math.abs(numeric)),
          `row grad ${k}: ${r.gradExtraHead[k]} vs ${numeric}`,
        );
      }
    } finally {
      await model.release();
    }
  });

  it('greedy generation streams tokens and stops at max tokens; sampling is reproducible with a seed', async () => {
    const model = tinyModel({ seed: 5 });
    try {
      const prompt = model.embed([1, 3, 5, 7]);
      const greedy: number[] = [];
      for await (const id of generateTokens(model, prompt, { maxNewTokens: 6, eosTokenIds: [] }))
        greedy.push(id);
      assert.equal(greedy.length, 6);
      const sample = async (seed: number): Promise<number[]> => {
        const rng = new Rng(seed);
        const out: number[] = [];
        for await (const id of generateTokens(model, prompt, {
          maxNewTokens: 6,
          eosTokenIds: [],
          temperature: 1,
          topP: 0.9,
          random: () => rng.next(),
        }))
          out.push(id);
        return out;
      };
      assert.deepEqual(await sample(1), await sample(1));
    } finally {
      await model.release();
    }
  });
});

describe('model fingerprint', () => {
  it('is stable for the same folder and changes when one weight changes', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'yollava-fp-'));
    writeTinyLlava(dir, { seed: 1 });
    const a = LlavaModel.load(dir).fingerprint();
    assert.equal(LlavaModel.load(dir).fingerprint(), a);
    const other = mkdtempSync(path.join(tmpdir(), 'yollava-fp-'));
    writeTinyLlava(other, { seed: 2 });
    assert.notEqual(LlavaModel.load(other).fingerprint(), a);
  });
});

describe('loading errors name the file and field', () => {
  it('missing folder, missing config, unsupported model type, truncated weights', () => {
    assert.throws(
      () => LlavaModel.load('/no/such/model'),
      /\/no\/such\/model: the model folder does not exist/,
    );
    const dir = mkdtempSync(path.join(tmpdir(), 'yollava-bad-'));
    assert.throws(() => LlavaModel.load(dir), /config\.json: not found/);
    writeTinyLlava(dir, {});
    const cfg = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...cfg, model_type: 'blip' }));
    assert.throws(
      () => LlavaModel.load(dir),
      (e: Error) =>
        e instanceof ModelConfigError && /config\.json: model_type: "blip" is not supported/.test(e.message),
    );
    writeFileSync(
      path.join(dir, 'config.json'),
      JSON.stringify({ ...cfg, text_config: { ...cfg.text_config, model_type: 'mistral' } }),
    );
    assert.throws(
      () => LlavaModel.load(dir),
      /text_config\.model_type: "mistral" is not supported \(supported: llama, qwen2\)/,
    );
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg));
    const st = readFileSync(path.join(dir, 'model.safetensors'));
    writeFileSync(path.join(dir, 'model.safetensors'), st.subarray(0, st.length - 100));
    assert.throws(() => LlavaModel.load(dir), /model\.safetensors: .*truncated or corrupt/);
    rmSync(path.join(dir, 'model.safetensors'));
    assert.throws(() => LlavaModel.load(dir), /no model\.safetensors or model\.safetensors\.index\.json/);
  });

  it('absurd sizes in the config and weights larger than memory are refused before loading', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'yollava-huge-'));
    const cfg = tinyLlavaConfig();
    const tc = cfg['text_config'] as Record<string, unknown>;
    for (const [field, value] of [
      ['hidden_size', 1e9],
      ['num_hidden_layers', 1e6],
      ['vocab_size', -5],
    ] as const) {
      writeFileSync(
        path.join(dir, 'config.json'),
        JSON.stringify({ ...cfg, text_config: { ...tc, [field]: value } }),
      );
      assert.throws(
        () => LlavaModel.load(dir),
        new RegExp(`config\\.json: text_config\\.${field}: ${value} is not a size a LLaVA model uses`),
      );
    }
    // A checkpoint whose header declares 1.6e11 float32 parameters (a sparse file: no disk is used).
    const vocab = 4_000_000;
    const hidden = 40_000;
    writeFileSync(
      path.join(dir, 'config.json'),
      JSON.stringify({
        ...cfg,
        text_config: {
          ...tc,
          vocab_size: vocab,
          hidden_size: hidden,
          num_attention_heads: 40,
          num_key_value_heads: 40,
        },
      }),
    );
    const header = JSON.stringify({
      'language_model.lm_head.weight': {
        dtype: 'F32',
        shape: [vocab, hidden],
        data_offsets: [0, vocab * hidden * 4],
      },
    });
    const padded = header + ' '.repeat((8 - (header.length % 8)) % 8);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(padded.length));
    const file = path.join(dir, 'model.safetensors');
    writeFileSync(file, Buffer.concat([len, Buffer.from(padded)]));
    truncateSync(file, 8 + padded.length + vocab * hidden * 4);
    assert.throws(
      () => LlavaModel.load(dir),
      /^ModelConfigError: .*: llava \(clip vision, llama text\) with [\d,]+ parameters needs about [\d.]+ GiB to run \(596\.0 GiB of weights\), more than 90% of this machine's [\d.]+ GiB; use a smaller checkpoint, a 16-bit/,
    );
    rmSync(dir, { recursive: true });
  });
});
