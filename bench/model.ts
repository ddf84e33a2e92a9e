// Model benchmark on the embedded default model (or --model DIR): vision ms per image, forward ms for a
// 128-token prompt, KV-cache decode tokens/s, a chat turn with a photo (prefill and time to first token),
// and the train graph's step time with its FLOP/s as a fraction of the same run's plain-MatMul peak.
import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Graph, serialize } from '../server/src/engine/graph/index';
import { LlavaModel, emptyCache } from '../server/src/engine/models/llava/model';
import { loadChatTemplate } from '../server/src/engine/models/llava/chat-template';
import { LlavaTokenizer } from '../server/src/engine/models/llava/tokenizer';
import { sampleToken } from '../server/src/engine/generate/sampling';
import { ImageFeatureStore } from '../server/src/engine/personalize/image-features';
import { promptIds } from '../server/src/engine/personalize/prompts';
import { defaultModelDir } from '../server/src/engine/toyworld/default-model';
import { f32 } from '../server/src/engine/runtime/host-tensor';
import { GraphSession, type ProviderSetting } from '../server/src/engine/runtime/session';
import { bestOf, table } from './timing';

const THREADS = Math.min(2, os.cpus().length);

/** The best plain fp32 MatMul GFLOP/s of this machine, on this run's threads: what steps are measured against. */
export async function matmulPeak(threads = THREADS): Promise<number> {
  let best = 0;
  for (const [m, k, n] of [
    [1024, 1024, 1024],
    [2048, 2048, 2048],
    [512, 256, 704],
  ] as const) {
    const g = new Graph();
    const a = g.input('a', 'float32', [m, k]);
    const b = g.input('b', 'float32', [k, n]);
    const s = await GraphSession.create(serialize({ c: a.matmul(b) }), { threads });
    const feeds = {
      a: f32([m, k], new Float32Array(m * k).fill(0.01)),
      b: f32([k, n], new Float32Array(k * n).fill(0.02)),
    };
    best = Math.max(best, (2 * m * k * n) / (await bestOf(5, 1, () => s.run(feeds))) / 1e9);
    await s.release();
  }
  return best;
}

export async function runModelBench(
  json: boolean,
  provider: ProviderSetting = 'cpu',
  modelDir?: string,
): Promise<Record<string, unknown>> {
  const dir = modelDir ? path.resolve(modelDir) : defaultModelDir();
  if (!dir)
    throw new Error(
      'the default model (samples/models/toy-llava) is missing: run npm run pretrain, or pass --model DIR',
    );
  const model = LlavaModel.load(dir, { provider, threads: THREADS });
  try {
    const c = model.config;
    const D = model.hidden;
    const V = model.vocab;
    const images = 8;
    const px = f32(
      [images, 3, c.vision.imageSize, c.vision.imageSize],
      Float32Array.from({ length: images * 3 * c.vision.imageSize ** 2 }, (_, i) => Math.sin(i)),
    );
    const visionSeconds = await bestOf(3, 1, () => model.encodeImages(px));

    const T = 128;
    const ids = Array.from({ length: T }, (_, i) => 3 + ((i * 37) % (V - 4)));
    const embeds = model.embed(ids);
    const forwardSeconds = await bestOf(5, 1, () => model.logits(embeds, 1, T, [T - 1]));

    // Steady-state decoding after the prompt: the first steps (the session's first runs) are left out, as
    // the chat turn below reports the time to the first token on its own.
    let step = await model.decodeStep(embeds, emptyCache());
    for (let i = 0; i < 4; i++) step = await model.decodeStep(model.embed([5 + i]), step.cache);
    const steps = 64;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < steps; i++) step = await model.decodeStep(model.embed([9 + i]), step.cache);
    const decodeTps = steps / (Number(process.hrtime.bigint() - t0) / 1e9);
    const turn = await chatTurn(model);

    // A batch of 4 recognition-like sequences: 64 image tokens + 64 text tokens, 8 supervised positions each.
    const B = 4;
    const batchEmbeds = new Float32Array(B * T * D);
    for (let b = 0; b < B; b++) batchEmbeds.set(embeds, b * T * D);
    const positions = Array.from({ length: B * 8 }, (_, i) => Math.floor(i / 8) * T + 119 + (i % 8));
    const labels = positions.map((_, i) => 10 + i);
    const extra = new Float32Array(17 * D).fill(0.01);
    const train = {
      embeds: batchEmbeds,
      batch: B,
      seq: T,
      labelPositions: positions,
      labelIds: labels,
      extraHead: extra,
    };
    const trainSeconds = await bestOf(5, 1, () => model.trainStep(train));
    const t = c.text;
    const perTokenForward =
      t.layers *
        2 *
        (t.hidden * t.heads * t.headDim * 2 +
          2 * t.hidden * t.kvHeads * t.headDim +
          3 * t.hidden * t.intermediate) +
      t.layers * 4 * T * t.hidden;
    // Forward, plus a backward pass that only needs gradients for the inputs (weights are frozen).
    const trainFlops = 2 * B * T * perTokenForward + 2 * 2 * positions.length * (V + 17) * D;
    const peak = await matmulPeak();
    const trainGflops = trainFlops / trainSeconds / 1e9;
    const result = {
      parameters: model.parameterCount(),
      provider: provider,
      vision_ms_per_image: round((visionSeconds * 1000) / images, 2),
      forward_ms_128_tokens: round(forwardSeconds * 1000, 2),
      decode_tokens_per_s: round(decodeTps, 1),
      chat_prompt_tokens: turn.promptTokens,
      chat_photo_ms: round(turn.photoSeconds * 1000, 2),
      chat_prefill_ms: round(turn.prefillSeconds * 1000, 2),
      chat_first_token_ms: round(turn.firstTokenSeconds * 1000, 2),
      train_step_ms: round(trainSeconds * 1000, 2),
      train_gflops: round(trainGflops, 1),
      train_efficiency: round(trainGflops / peak, 3),
      matmul_peak_gflops: round(peak, 1),
    };
    if (!json) {
      process.stdout.write(
        table(
          `model (${(result.parameters / 1e6).toFixed(1)}M-parameter LLaVA, ${provider}, ${THREADS} threads)`,
          [
            [
              'vision',
              `${result.vision_ms_per_image} ms per image (${c.vision.imageSize}px, ${c.imageTokens} tokens; batch of ${images})`,
            ],
            [
              'forward',
              `${result.forward_ms_128_tokens} ms for a 128-token prompt (logits at the last position)`,
            ],
            ['decode', `${result.decode_tokens_per_s} tokens/s with the KV cache`],
            [
              'chat turn',
              `a photo and a question (${turn.promptTokens} tokens): photo ${result.chat_photo_ms} ms, prefill ${result.chat_prefill_ms} ms, first token after ${result.chat_first_token_ms} ms`,
            ],
            [
              'train step',
              `${result.train_step_ms} ms for ${B}×${T} tokens (loss, d/d inputs_embeds, d/d 17 head rows)`,
            ],
            [
              'train FLOP/s',
              `${result.train_gflops} GFLOP/s = ${result.train_efficiency} of the MatMul peak (${result.matmul_peak_gflops})`,
            ],
          ],
        ),
      );
    }
    return result;
  } finally {
    await model.release();
  }
}

/**
 * One warm chat turn with a new photo, as the chat panel runs it: the photo through the vision tower, the
 * prompt's prefill, and the first token; the best of five (the sessions are built by the first).
 */
async function chatTurn(model: LlavaModel): Promise<{
  promptTokens: number;
  photoSeconds: number;
  prefillSeconds: number;
  firstTokenSeconds: number;
}> {
  const tokenizer = LlavaTokenizer.load(model.dir);
  const template = loadChatTemplate(model.dir, { bos: tokenizer.bosToken, eos: tokenizer.eosToken });
  const ctx = {
    tokenizer,
    template,
    imageTokenIndex: model.config.imageTokenIndex,
    imageTokens: model.config.imageTokens,
    eosTokenId: null,
  };
  const ids = promptIds(ctx, '', 'What is in this photo?', 1);
  const photos = path.join(__dirname, '..', 'samples', 'bo', 'photos', 'test');
  const photo = path.join(
    photos,
    readdirSync(photos)
      .filter((f) => f.endsWith('.png'))
      .sort()[0]!,
  );
  let best = { photoSeconds: Infinity, prefillSeconds: Infinity, firstTokenSeconds: Infinity };
  for (let i = 0; i < 6; i++) {
    // A store without a cache: the photo is encoded every time, as a photo new to the panel is.
    const store = new ImageFeatureStore(model, null);
    const t0 = performance.now();
    const [features] = await store.projected([photo]);
    const t1 = performance.now();
    const step = await model.decodeStep(model.embed(ids, [features!]), emptyCache());
    const t2 = performance.now();
    sampleToken(step.logits, {});
    const t3 = performance.now();
    if (i === 0) continue;
    best = {
      photoSeconds: Math.min(best.photoSeconds, (t1 - t0) / 1000),
      prefillSeconds: Math.min(best.prefillSeconds, (t2 - t1) / 1000),
      firstTokenSeconds: Math.min(best.firstTokenSeconds, (t3 - t0) / 1000),
    };
  }
  return { promptTokens: ids.length, ...best };
}

function round(v: number, d = 1): number {
  return Math.round(v * 10 ** d) / 10 ** d;
}
