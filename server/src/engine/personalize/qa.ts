// Two-option question answering (visual and text-only): the options are shown as "A." and "B." in a
// random order, and the model's answer is read from P(A) against P(B) at the first answer position, so
// the score does not depend on which slot the right answer sits in.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { LlavaModel } from '../models/llava/model';
import type { Rng } from '../util/rng';
import type { ImageFeatureStore } from './image-features';
import { fillName, promptIds, type PromptContext } from './prompts';

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
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<QaFile>;
  const dir = path.dirname(file);
  const fix = (items: QaItem[] | undefined): QaItem[] =>
    (items ?? []).map((q) => ({ ...q, image: q.image ? path.resolve(dir, q.image) : undefined }));
  return { visual: fix(raw.visual), text: fix(raw.text) };
}

/** Whether the model picked the right option of each item, in the order given. */
export async function qaAnswers(
  model: LlavaModel,
  ctx: PromptContext,
  store: ImageFeatureStore,
  items: QaItem[],
  prefix: string,
  nameText: string,
  rows: { embeddings?: Float32Array; head?: Float32Array },
  rng: Rng,
  /** Projector features of reference photos held by the prefix's <image> tokens (reference mode). */
  references: Float32Array[] = [],
): Promise<boolean[]> {
  const letterIds = ['A', 'B'].map((l) => {
    const ids = ctx.tokenizer.encode(l, false);
    return ids[0]!;
  });
  const right: boolean[] = [];
  for (const q of items) {
    const swap = rng.next() < 0.5;
    const shown = swap ? [q.options[1], q.options[0]] : q.options;
    const text = `${fillName(q.question, nameText)}\nA. ${fillName(shown[0]!, nameText)}\nB. ${fillName(shown[1]!, nameText)}\nAnswer with the option's letter.`;
    const ids = promptIds(ctx, prefix, text, q.image ? 1 : 0);
    // The photo asked about opens the turn; the references follow inside the prefix.
    const features = [...(q.image ? await store.projected([q.image]) : []), ...references];
    const logits = await model.logits(
      model.embed(ids, features, rows.embeddings),
      1,
      ids.length,
      [ids.length - 1],
      rows.head,
    );
    const pickA = logits[letterIds[0]!]! >= logits[letterIds[1]!]!;
    const chosen = pickA ? 0 : 1;
    const correctSlot = swap ? 1 - q.answer : q.answer;
    right.push(chosen === correctSlot);
  }
  return right;
}

/** The share of items answered right (NaN for none). */
export async function qaAccuracy(...args: Parameters<typeof qaAnswers>): Promise<number> {
  const right = await qaAnswers(...args);
  return right.length ? right.filter(Boolean).length / right.length : NaN;
}
