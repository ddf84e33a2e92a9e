// Two-option question answering (visual and text-only): the options are shown as "A." and "B." in a
// random order, and the model's answer is read from P(A) against P(B) at the first answer position, so
// the score does not depend on which slot the right answer sits in. Read raw, each item is asked once;
// read balanced, in both orders, which cancels a model's leaning towards one letter.
import { existsSync } from 'node:fs';
import { FILE_CAPS, readRegularTextSync } from '../io/regular-file';
import path from 'node:path';
import type { LlavaModel } from '../models/llava/model';
import type { Rng } from '../util/rng';
import type { ImageFeatureStore } from './image-features';
import { fillName, imageCounts, promptIds, type PromptContext } from './prompts';

export interface QaItem {
  question: string;
  options: [string, string];
  /** Index of the correct option in `options`. */
  answer: 0 | 1;
  /** Photo for visual QA (relative to the question file). */
  image?: string;
}

export interface QaFile {
  visual: QaItem[];
  text: QaItem[];
}

/** `<subject>.qa.json` beside the subject file: { "visual": [...], "text": [...] }. */
export function readQaFile(subjectFile: string): QaFile | null {
  const file = subjectFile.replace(/\.subject\.ya?ml$/, '.qa.json');
  if (!existsSync(file)) return null;
  const raw = JSON.parse(readRegularTextSync(file, 'a QA file', FILE_CAPS.smallJson)) as Partial<QaFile>;
  const dir = path.dirname(file);
  const fix = (items: QaItem[] | undefined): QaItem[] =>
    (items ?? []).map((q) => ({ ...q, image: q.image ? path.resolve(dir, q.image) : undefined }));
  return { visual: fix(raw.visual), text: fix(raw.text) };
}

/** The question and options of a two-option item as every two-option question is asked, in
 *  pretraining and in evaluation alike. */
export function choicePrompt(question: string, options: readonly [string, string]): string {
  return `${question}\nA. ${options[0]}\nB. ${options[1]}\nAnswer with the option's letter.`;
}

/**
 * logit(letter of the right option) − logit(letter of the wrong one) at the first answer position, with
 * the options shown in their file order, or swapped.
 */
export async function rightOptionMargin(
  model: LlavaModel,
  ctx: PromptContext,
  store: ImageFeatureStore,
  q: QaItem,
  swapped: boolean,
  prefix: string,
  nameText: string,
  rows: { embeddings?: Float32Array; head?: Float32Array },
  /** Projector features of reference photos held by the prefix's <image> tokens (reference mode). */
  references: Float32Array[] = [],
): Promise<number> {
  const [letterA, letterB] = ['A', 'B'].map((l) => ctx.tokenizer.encode(l, false)[0]!);
  const shown = swapped ? [q.options[1], q.options[0]] : q.options;
  const text = choicePrompt(fillName(q.question, nameText), [
    fillName(shown[0]!, nameText),
    fillName(shown[1]!, nameText),
  ]);
  // The photo asked about opens the turn; the references follow inside the prefix.
  const features = [
    ...(q.image ? await store.projected([q.image], undefined, 1 + references.length) : []),
    ...references,
  ];
  const ids = promptIds(ctx, prefix, text, q.image ? 1 : 0, imageCounts(ctx, features));
  const logits = await model.logits(
    model.embed(ids, features, rows.embeddings),
    1,
    ids.length,
    [ids.length - 1],
    rows.head,
  );
  const aMinusB = logits[letterA!]! - logits[letterB!]!;
  const rightIsA = (swapped ? 1 - q.answer : q.answer) === 0;
  return rightIsA ? aMinusB : -aMinusB;
}

/** Whether the model picked the right option of each item, read two ways. */
export interface QaAnswers {
  /** Each item shown once, its options in a random order: the paper's reading. */
  raw: boolean[];
  /**
   * Each item shown in both orders and the right option's margins averaged, so that a preference for one
   * letter whatever the options say cancels out (the answer no longer depends on the order drawn).
   */
  balanced: boolean[];
}

export async function qaAnswers(
  model: LlavaModel,
  ctx: PromptContext,
  store: ImageFeatureStore,
  items: QaItem[],
  prefix: string,
  nameText: string,
  rows: { embeddings?: Float32Array; head?: Float32Array },
  rng: Rng,
  references: Float32Array[] = [],
): Promise<QaAnswers> {
  return answersFromMargins(items, rng, (q, swapped) =>
    rightOptionMargin(model, ctx, store, q, swapped, prefix, nameText, rows, references),
  );
}

/** Both readings of each item from a margin function (the right option's margin, options in file order
 *  or swapped): one random order drawn per item for the raw reading. */
export async function answersFromMargins(
  items: QaItem[],
  rng: Rng,
  margin: (q: QaItem, swapped: boolean) => Promise<number>,
): Promise<QaAnswers> {
  const out: QaAnswers = { raw: [], balanced: [] };
  for (const q of items) {
    const swapped = rng.next() < 0.5;
    const shown = await margin(q, swapped);
    // A tie reads as "A", as P(A) >= P(B) does.
    const rightIsA = (swapped ? 1 - q.answer : q.answer) === 0;
    out.raw.push(shown > 0 || (shown === 0 && rightIsA));
    out.balanced.push((shown + (await margin(q, !swapped))) / 2 > 0);
  }
  return out;
}
