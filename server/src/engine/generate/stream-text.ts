// Text streaming on top of token generation: decoded deltas as they are produced, stopping on EOS, on
// max tokens, or when a stop string appears (the stop string itself is not emitted).
import type { LlavaModel } from '../models/llava/model';
import { TextStreamer, type LlavaTokenizer } from '../models/llava/tokenizer';
import { generateTokens, type GenerateOptions } from './generate';

export interface StreamTextOptions extends GenerateOptions {
  stopStrings?: string[];
}

export async function* streamText(
  model: LlavaModel,
  tokenizer: LlavaTokenizer,
  promptEmbeds: Float32Array,
  opts: StreamTextOptions = {},
): AsyncGenerator<string> {
  const streamer = new TextStreamer(tokenizer);
  const stops = opts.stopStrings ?? [];
  const longest = Math.max(0, ...stops.map((s) => s.length));
  let sent = 0;
  for await (const id of generateTokens(model, promptEmbeds, opts)) {
    streamer.push(id);
    const text = streamer.text;
    const hit = firstStop(text, stops);
    if (hit >= 0) {
      if (hit > sent) yield text.slice(sent, hit);
      return;
    }
    // Hold back a tail that could still become a stop string.
    const safe = Math.max(sent, text.length - (longest > 0 ? longest - 1 : 0));
    if (safe > sent) {
      yield text.slice(sent, safe);
      sent = safe;
    }
  }
  const rest = streamer.text.slice(sent);
  if (rest) yield rest;
}

function firstStop(text: string, stops: string[]): number {
  let best = -1;
  for (const s of stops) {
    const i = text.indexOf(s);
    if (i >= 0 && (best < 0 || i < best)) best = i;
  }
  return best;
}
