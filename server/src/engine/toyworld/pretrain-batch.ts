// Skill samples → the whole-model graph's feeds: token ids through the model's own tokenizer and chat
// template, rendered pixels, one fresh random embedding row per made-up name, and labels on the answer.
import type { LlavaConfig } from '../models/llava/config';
import { loadChatTemplate } from '../models/llava/chat-template';
import { LlavaTokenizer } from '../models/llava/tokenizer';
import { trainingSample, type PromptContext } from '../personalize/prompts';
import { f32, i64, type HostTensor } from '../runtime/host-tensor';
import type { Rng } from '../util/rng';
import { renderSceneRgb } from './scenes';
import type { SkillSample } from './skills';

const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
const CLIP_STD = [0.26862954, 0.26130258, 0.27577711];

export interface EncodedSample {
  /** Token ids; the made-up name is `nameId` (= vocab), image tokens are runs of imageTokenIndex. */
  ids: number[];
  labels: number[];
}

export class PretrainEncoder {
  readonly ctx: PromptContext;
  /** The id the tokenizer gives "<name>"; the batch maps it to a per-sample row. */
  readonly nameId: number;

  constructor(
    readonly config: LlavaConfig,
    readonly tokenizer: LlavaTokenizer,
    modelDir: string,
  ) {
    const template = loadChatTemplate(modelDir, { bos: tokenizer.bosToken, eos: tokenizer.eosToken });
    this.ctx = {
      tokenizer,
      template,
      imageTokenIndex: config.imageTokenIndex,
      imageTokens: config.imageTokens,
      eosTokenId: tokenizer.eosToken ? (tokenizer.idOf(tokenizer.eosToken) ?? null) : null,
    };
    this.nameId = tokenizer.idOf('<name>')!;
  }

  static load(config: LlavaConfig, modelDir: string): PretrainEncoder {
    return new PretrainEncoder(
      config,
      LlavaTokenizer.load(modelDir, { extraTokens: ['<name>'], firstExtraId: config.text.vocab }),
      modelDir,
    );
  }

  encode(s: SkillSample): EncodedSample {
    const { ids, labels } = trainingSample(this.ctx, '', s.user, s.answer, s.queryImage ? 1 : 0);
    // The name's output row is random and untrained: predicting it is no skill, so it is not scored.
    return { ids, labels: labels.map((l) => (l === this.nameId ? -100 : l)) };
  }
}

export interface PretrainBatch {
  feeds: Record<string, HostTensor>;
  /** Per sample: the flat label positions it owns (its first one is the answer's first token). */
  labelSpans: { start: number; count: number }[];
  labelIds: number[];
  tokens: number;
}

/** Embedding rows for made-up names: the vocabulary's mean plus noise of a random share of its spread. */
export function randomNameRows(
  table: Float32Array,
  vocab: number,
  hidden: number,
  count: number,
  rng: Rng,
): Float32Array {
  const mean = new Float64Array(hidden);
  for (let r = 0; r < vocab; r++) for (let d = 0; d < hidden; d++) mean[d]! += table[r * hidden + d]! / vocab;
  let varSum = 0;
  for (let i = 0; i < vocab * hidden; i++) varSum += (table[i]! - mean[i % hidden]!) ** 2;
  const std = Math.sqrt(varSum / (vocab * hidden));
  const rows = new Float32Array(count * hidden);
  for (let b = 0; b < count; b++) {
    const scale = std * (0.1 + 0.9 * rng.next());
    for (let d = 0; d < hidden; d++) rows[b * hidden + d] = mean[d]! + scale * rng.normal();
  }
  return rows;
}

/** Rendered scenes → normalized [N, 3, S, S] pixels, as the image processor would give for the PNGs. */
export async function scenePixels(scenes: SkillSample['scenes'], size: number): Promise<Float32Array> {
  const rgbs = await Promise.all(scenes.map((s) => renderSceneRgb(s, size)));
  const plane = size * size;
  const out = new Float32Array(rgbs.length * 3 * plane);
  rgbs.forEach((rgb, n) => {
    for (let c = 0; c < 3; c++) {
      const base = (n * 3 + c) * plane;
      const m = CLIP_MEAN[c]!;
      const sd = CLIP_STD[c]!;
      for (let i = 0; i < plane; i++) out[base + i] = (rgb[i * 3 + c]! / 255 - m) / sd;
    }
  });
  return out;
}

export async function makeBatch(
  enc: PretrainEncoder,
  samples: SkillSample[],
  encoded: EncodedSample[],
  nameRows: Float32Array,
): Promise<PretrainBatch> {
  const c = enc.config;
  const V = c.text.vocab;
  const B = samples.length;
  const N = c.imageTokens;
  const T = Math.max(...encoded.map((e) => e.ids.length));
  const scenes = samples.flatMap((s) => s.scenes);
  const realImages = scenes.length;
  // The graph needs at least one image; a text-only batch gets a blank one that no position reads.
  const size = c.vision.imageSize;
  const pixels = realImages ? await scenePixels(scenes, size) : new Float32Array(3 * size * size);
  const images = Math.max(realImages, 1);
  const index = new Array<number>(B * T).fill(0);
  const mask = new Array<number>(B * T).fill(0);
  const positions: number[] = [];
  const labelIds: number[] = [];
  const labelWeights: number[] = [];
  const labelSpans: { start: number; count: number }[] = [];
  let imageBase = 0;
  encoded.forEach((e, b) => {
    let imageRow = 0;
    e.ids.forEach((id, t) => {
      const p = b * T + t;
      mask[p] = 1;
      if (id === c.imageTokenIndex) index[p] = V + B + imageBase * N + imageRow++;
      else if (id === enc.nameId) index[p] = V + b;
      else index[p] = id;
    });
    if (imageRow !== samples[b]!.scenes.length * N)
      throw new Error(
        `sample ${b}: ${imageRow} image tokens for ${samples[b]!.scenes.length} image(s) of ${N}`,
      );
    imageBase += samples[b]!.scenes.length;
    const start = positions.length;
    for (let t = 1; t < e.labels.length; t++) {
      if (e.labels[t] === -100) continue;
      positions.push(b * T + t - 1);
      labelIds.push(e.labels[t]!);
    }
    const count = positions.length - start;
    // Each answer counts once, whatever its length: otherwise the long, randomly worded recognition
    // answers ("Yes, I can see <zib> here.") drown their one deciding token in template noise. For a
    // two-way answer that token carries half the sample's weight.
    for (let j = 0; j < count; j++)
      labelWeights.push(samples[b]!.contrast && count > 1 ? (j === 0 ? 0.5 : 0.5 / (count - 1)) : 1 / count);
    labelSpans.push({ start, count });
  });
  return {
    feeds: {
      pixel_values: f32([images, 3, size, size], pixels),
      table_index: i64([B, T], index),
      extra_rows: f32([B, c.text.hidden], nameRows),
      key_mask: i64([B, T], mask),
      label_positions: i64([positions.length], positions),
      label_ids: i64([labelIds.length], labelIds),
      label_weights: f32([labelWeights.length], labelWeights),
    },
    labelSpans,
    labelIds,
    tokens: mask.reduce((a, v) => a + v, 0),
  };
}
