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

export class PromptTooLongError extends Error {
  override name = 'PromptTooLongError';

  /** `what` is `tokens` long, past the `limit` of the model's positions. */
  static tokens(what: string, tokens: number, limit: number): PromptTooLongError {
    return new PromptTooLongError(
      `${what} is ${tokens} tokens, and the model takes at most ${limit} (max_position_embeddings in its config.json); shorten it`,
    );
  }
}

/** Yields new token ids after the prompt given as merged embeddings [T, D]. */
export async function* generateTokens(
  model: LlavaModel,
  promptEmbeds: Float32Array,
  opts: GenerateOptions = {},
): AsyncGenerator<number> {
  const eos = new Set(opts.eosTokenIds ?? model.config.text.eosTokenIds);
  // Positions past max_position_embeddings were never trained (and an unbounded prompt once crashed
  // onnxruntime): the prompt must fit, and the answer stops where the model's positions end.
  const T = promptEmbeds.length / model.hidden;
  const limit = model.config.text.maxPositions;
  if (T >= limit) throw PromptTooLongError.tokens('the prompt', T, limit);
  const max = Math.min(opts.maxNewTokens ?? 64, limit - T);
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
