// tokenizer.json + tokenizer_config.json through @huggingface/tokenizers, with extra added tokens (the
// concept tokens <bo>, <token0>…) given ids after the model's vocabulary.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { FILE_CAPS, FileKindError, readRegularTextSync } from '../../io/regular-file';
import { backtrackingRisk, tokenizerPatterns } from './regex-safety';
import { Tokenizer } from '@huggingface/tokenizers';
import { ModelConfigError } from './config';

type Json = Record<string, unknown>;

interface Added {
  content: string;
  special: boolean;
  normalized: boolean;
}

export class LlavaTokenizer {
  private readonly addedById: Map<number, Added>;

  private constructor(
    private readonly tok: Tokenizer,
    readonly config: Json,
    /** Added tokens (text → id) beyond those the checkpoint had. */
    readonly extra: ReadonlyMap<string, number>,
    added: Json[],
  ) {
    this.addedById = new Map(
      added.map((t) => [
        t['id'] as number,
        {
          content: t['content'] as string,
          special: t['special'] === true,
          normalized: t['normalized'] !== false,
        },
      ]),
    );
  }

  /**
   * Loads the folder's tokenizer. `extraTokens` are added as special tokens with ids firstExtraId, +1, …
   * (default: the vocabulary size given), so that "<bo>" encodes to one id whatever the base tokenizer.
   */
  static load(dir: string, opts: { extraTokens?: string[]; firstExtraId?: number } = {}): LlavaTokenizer {
    const file = path.join(dir, 'tokenizer.json');
    if (!existsSync(file))
      throw new ModelConfigError(file, '', 'not found: the model folder has no tokenizer.json');
    const json = readJson(file);
    for (const pattern of tokenizerPatterns({
      normalizer: json['normalizer'],
      pre_tokenizer: json['pre_tokenizer'],
    })) {
      const risk = backtrackingRisk(pattern);
      if (risk)
        throw new ModelConfigError(
          file,
          'pre_tokenizer',
          `the pattern ${JSON.stringify(pattern.slice(0, 80))} could take exponential time on a short text (${risk}); no real tokenizer has one`,
        );
    }
    const cfgFile = path.join(dir, 'tokenizer_config.json');
    const config = existsSync(cfgFile) ? readJson(cfgFile) : {};
    const added = Array.isArray(json['added_tokens']) ? [...(json['added_tokens'] as Json[])] : [];
    const extra = new Map<string, number>();
    let next = opts.firstExtraId ?? maxId(json) + 1;
    for (const content of opts.extraTokens ?? []) {
      const existing = added.find((t) => t['content'] === content);
      if (existing) {
        extra.set(content, existing['id'] as number);
        continue;
      }
      // Not "special": decoding with skip_special_tokens must still show <bo> in answers. Not "normalized":
      // LLaMA's legacy normalizer prepends "▁" to a normalized added token's pattern, and "<token1>" glued
      // to "<token0>" would then fall apart into bytes (checked against the Rust core).
      added.push({
        id: next,
        content,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: false,
      });
      extra.set(content, next++);
    }
    let tok: Tokenizer;
    try {
      tok = new Tokenizer({ ...json, added_tokens: added }, config);
    } catch (e) {
      throw new ModelConfigError(file, '', `cannot be loaded: ${(e as Error).message}`);
    }
    return new LlavaTokenizer(tok, config, extra, added);
  }

  encode(text: string, addSpecialTokens = true): number[] {
    return this.tok.encode(text, { add_special_tokens: addSpecialTokens }).ids;
  }

  /** The tokens' strings as the vocabulary spells them ("▁dog", "Ġdog", "<0x0A>"). */
  tokens(ids: readonly number[]): string[] {
    return ids.map((id) => this.tokenString(id) ?? '');
  }

  /**
   * Decodes the way the Rust core does: every token through the decoder chain at once (so "Strip" and
   * "Fuse" see the whole sequence, added tokens included), a normalized added token as its normalized
   * form, and transformers' clean-up of spaces only where tokenizer_config.json asks for it.
   */
  decode(ids: readonly number[], skipSpecialTokens = false): string {
    const tokens: string[] = [];
    for (const id of ids) {
      if (skipSpecialTokens && this.addedById.get(id)?.special) continue;
      const t = this.tokenString(id);
      if (t !== undefined) tokens.push(t);
    }
    if (tokens.length === 0) return '';
    const text = this.tok.decoder ? this.tok.decoder.decode(tokens) : tokens.join(' ');
    return this.config['clean_up_tokenization_spaces'] === true ? cleanUpSpaces(text) : text;
  }

  private tokenString(id: number): string | undefined {
    const added = this.addedById.get(id);
    if (!added) return this.tok.id_to_token(id);
    return added.normalized && this.tok.normalizer
      ? this.tok.normalizer.normalize(added.content)
      : added.content;
  }

  idOf(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }

  /** Whether `word` is a single entry of the vocabulary (a concept name may not collide with one). */
  hasToken(word: string): boolean {
    return this.tok.token_to_id(word) !== undefined;
  }

  get bosToken(): string | undefined {
    return tokenText(this.config['bos_token']);
  }

  get eosToken(): string | undefined {
    return tokenText(this.config['eos_token']);
  }
}

/** transformers' clean_up_tokenization: no space before punctuation and English contractions. */
function cleanUpSpaces(text: string): string {
  return text
    .replace(/ \./g, '.')
    .replace(/ \?/g, '?')
    .replace(/ !/g, '!')
    .replace(/ ,/g, ',')
    .replace(/ ' /g, "'")
    .replace(/ n't/g, "n't")
    .replace(/ 'm/g, "'m")
    .replace(/ 's/g, "'s")
    .replace(/ 've/g, "'ve")
    .replace(/ 're/g, "'re");
}

function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as Json)['content'] === 'string')
    return (v as Json)['content'] as string;
  return undefined;
}

function readJson(file: string): Json {
  try {
    return JSON.parse(readRegularTextSync(file, path.basename(file), FILE_CAPS.tokenizer)) as Json;
  } catch (e) {
    if (e instanceof FileKindError) throw new ModelConfigError(file, '', e.message.slice(file.length + 2));
    throw new ModelConfigError(file, '', `not valid JSON: ${(e as Error).message}`);
  }
}

function maxId(json: Json): number {
  const model = json['model'] as Json | undefined;
  const vocab = model?.['vocab'];
  let max = -1;
  if (vocab && typeof vocab === 'object' && !Array.isArray(vocab))
    for (const id of Object.values(vocab as Record<string, number>)) max = Math.max(max, id);
  else if (Array.isArray(vocab)) max = vocab.length - 1;
  for (const t of (json['added_tokens'] as Json[] | undefined) ?? []) max = Math.max(max, t['id'] as number);
  return max;
}

/**
 * Incremental detokenization for streaming: decodes the whole sequence each time and emits the new
 * suffix, so that multi-token characters and leading-space markers come out right.
 */
export class TextStreamer {
  private ids: number[] = [];
  private emitted = '';

  constructor(private readonly tok: LlavaTokenizer) {}

  push(id: number): string {
    this.ids.push(id);
    const text = this.tok.decode(this.ids, true);
    // Hold back a trailing replacement character: the next token may complete it.
    if (text.endsWith('\uFFFD')) return '';
    const delta = text.startsWith(this.emitted) ? text.slice(this.emitted.length) : text;
    this.emitted = text;
    return delta;
  }

  get text(): string {
    return this.emitted;
  }
}
