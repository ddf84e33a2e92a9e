// Token ids and labels for one training or inference sample: the concept's soft prompt
// "<bo> is <token0>…<token15>." opens the user turn, the chat template frames it, and only the answer
// (with its end-of-sequence token) is supervised.
import type { ChatTemplate } from '../models/llava/chat-template';
import type { LlavaTokenizer } from '../models/llava/tokenizer';
import { expandImageTokens } from '../models/llava/embeddings';

export interface ConceptTokens {
  name: string;
  /** "<bo>" */
  nameToken: string;
  /** "<token0>" … */
  latentTokens: string[];
  /** ids of nameToken, then the latent tokens (consecutive from the model's vocabulary size). */
  ids: number[];
}

export function conceptTokens(name: string, k: number, firstId: number): ConceptTokens {
  const latentTokens = Array.from({ length: k }, (_, i) => `<token${i}>`);
  return {
    name,
    nameToken: `<${name}>`,
    latentTokens,
    ids: Array.from({ length: k + 1 }, (_, i) => firstId + i),
  };
}

/** "<bo> is <token0><token1>…." — empty when the concept is absent (the base-model baseline). */
export function softPrompt(c: ConceptTokens | null): string {
  if (!c) return '';
  return c.latentTokens.length ? `${c.nameToken} is ${c.latentTokens.join('')}.` : `${c.nameToken}.`;
}

export interface PromptContext {
  tokenizer: LlavaTokenizer;
  template: ChatTemplate;
  imageTokenIndex: number;
  imageTokens: number;
  eosTokenId: number | null;
  /**
   * Anyres models (LLaVA-NeXT, OneVision): each image has its own token count, read from its features
   * (imageCounts); absent or false, every image has `imageTokens`.
   */
  anyres?: { hidden: number };
}

/** Each image's token count for a prompt holding `features` in order, on an anyres model; else undefined. */
export function imageCounts(ctx: PromptContext, features: readonly Float32Array[]): number[] | undefined {
  return ctx.anyres ? features.map((f) => f.length / ctx.anyres!.hidden) : undefined;
}

export interface Sample {
  ids: number[];
  /** Same length as ids; −100 where nothing is supervised. */
  labels: number[];
}

/** Replaces the generic placeholder "<name>" with the concept token (or plain text for baselines). */
export function fillName(text: string, nameText: string): string {
  return text.replace(/<name>/g, nameText);
}

function userText(prefix: string, question: string): string {
  return prefix ? `${prefix} ${question}` : question;
}

/** The prompt up to where the assistant's answer begins (for inference). */
export function promptIds(
  ctx: PromptContext,
  prefix: string,
  question: string,
  images: number,
  /** Each image's token count in prompt order (anyres models); default ctx.imageTokens for every one. */
  perImage?: readonly number[],
): number[] {
  const text = ctx.template.render([{ role: 'user', text: userText(prefix, question), images }], true);
  return expandImageTokens(ctx.tokenizer.encode(text), ctx.imageTokenIndex, perImage ?? ctx.imageTokens);
}

/** A supervised sample: prompt + answer, labels on the answer tokens (and EOS). */
export function trainingSample(
  ctx: PromptContext,
  prefix: string,
  question: string,
  answer: string,
  images: number,
  /** Each image's token count (anyres models; see imageCounts); default ctx.imageTokens for every one. */
  perImage?: readonly number[],
): Sample {
  const promptText = ctx.template.render([{ role: 'user', text: userText(prefix, question), images }], true);
  const fullText = ctx.template.render(
    [
      { role: 'user', text: userText(prefix, question), images },
      { role: 'assistant', text: answer },
    ],
    false,
  );
  const prompt = ctx.tokenizer.encode(promptText);
  let full = ctx.tokenizer.encode(fullText);
  if (full.length <= prompt.length || prompt.some((id, i) => full[i] !== id)) {
    // Templates whose answer changes the prompt's last tokens: tokenize the answer on its own.
    full = [...prompt, ...ctx.tokenizer.encode(` ${answer}`, false)];
  }
  if (ctx.eosTokenId !== null && full[full.length - 1] !== ctx.eosTokenId) full.push(ctx.eosTokenId);
  const labels = full.map((id, i) => (i < prompt.length ? -100 : id));
  const ids = expandImageTokens(full, ctx.imageTokenIndex, perImage ?? ctx.imageTokens);
  let image = 0;
  const expandedLabels =
    ids.length === full.length
      ? labels
      : full.flatMap((id, i) =>
          id === ctx.imageTokenIndex
            ? new Array<number>(perImage ? perImage[image++]! : ctx.imageTokens).fill(-100)
            : [labels[i]!],
        );
  return { ids, labels: expandedLabels };
}

/** The ids of the first answer token of "Yes…" and "No…" answers, read through the real template. */
export function yesNoIds(ctx: PromptContext): { yes: number; no: number } {
  const first = (answer: string): number => {
    const s = trainingSample(ctx, '', 'Is it here?', answer, 0);
    return s.labels.find((l) => l !== -100)!;
  };
  const yes = first('Yes.');
  const no = first('No.');
  if (yes === no)
    throw new Error(
      'the tokenizer gives "Yes" and "No" the same first token; recognition cannot read them apart',
    );
  return { yes, no };
}
