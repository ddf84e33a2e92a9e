// KV-cache generation: one prefill step over the prompt, then one step per new token. Token ids are
// streamed through an async iterator as they are chosen.
import type { LlavaModel } from '../models/llava/model';
import { emptyCache } from '../models/llava/model';
import { sampleToken, type SamplingOptions } from './sampling';

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens?: number;
  /** Stop when one of these ids is produced (it is not yielded). Default: the config's eos ids. */
  eosTokenIds?: number[];
  /** Output-head and embedding rows of added tokens (ids vocab…): [E, D] each. */
  extraHead?: Float32Array;
  extraEmbeddings?: Float32Array;
  signal?: AbortSignal;
}

/** Yields new token ids after the prompt given as merged embeddings [T, D]. */
export async function* generateTokens(
  model: LlavaModel,
  promptEmbeds: Float32Array,
  opts: GenerateOptions = {},
): AsyncGenerator<number> {
  const eos = new Set(opts.eosTokenIds ?? model.config.text.eosTokenIds);
  const max = opts.maxNewTokens ?? 64;
  let step = await model.decodeStep(promptEmbeds, emptyCache(), opts.extraHead);
  for (let n = 0; n < max; n++) {
    if (opts.signal?.aborted) return;
    const id = sampleToken(step.logits, opts);
    if (eos.has(id)) return;
    yield id;
    if (n + 1 === max) return;
    step = await model.decodeStep(model.embed([id], [], opts.extraEmbeddings), step.cache, opts.extraHead);
  }
}
