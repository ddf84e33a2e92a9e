// The paper's table on ToyWorld: the variants it compares (baselines, instant mode, k and data ablations,
// and experiments beside it), and how one subject is scored under a variant. For each subject its test
// photos are the positives and the other subjects' test photos the negatives, as in Yo'LLaVA;
// `lookalike_negative` is accuracy on held-out photos of other instances that share every nameable
// attribute (in no pool); two-option visual and text-only QA come from the subject's qa.json. Every variant
// is scored raw (P(Yes) > P(No); each QA item asked once, in a random order) and calibrated (a threshold
// chosen on the subject's training photos against 30 of its pool images, never test data; each QA item
// asked in both orders, margins averaged). `npm run bench -- toyworld` drives it over seeds and variants.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { LlavaModel } from '../models/llava/model';
import { artifactDir, loadConcept, type Concept } from '../personalize/concept';
import { openSubject, type PersonalizeOptions } from '../personalize/personalize';
import { softPrompt } from '../personalize/prompts';
import { answersFromMargins, readQaFile, rightOptionMargin, type QaItem } from '../personalize/qa';
import { accuracy, recognitionScores, scoreRecognition } from '../personalize/recognition';
import { pickReferences, referenceConcept, referencePrefix } from '../personalize/reference-mode';
import { describeItself } from '../personalize/self-description';
import { Rng } from '../util/rng';

type Overrides = NonNullable<PersonalizeOptions['overrides']>;
export interface Variant {
  kind: 'base' | 'description' | 'reference' | 'trained' | 'probe';
  overrides?: Overrides;
  /** The probe's training photos weigh this many times what the recipe's questions make them. */
  positiveWeight?: number;
  init?: PersonalizeOptions['init'];
  /** Run only when --variants names it: an experiment beside the paper's table, not part of it. */
  onRequest?: boolean;
  /** Scored with the concept another variant trained (its folder is reused, so nothing trains twice). */
  reuses?: string;
  /**
   * Text-only questions after the concept's own description of itself instead of its soft prompt
   * (self-description.ts; stored at training, or written now for concepts trained before it was);
   * questions with a photo after the soft prompt. Whether the concept knows an answer it cannot pick.
   */
  selfDescription?: boolean;
  /**
   * Trained concept and reference photos together: 'prompt' puts both in one prompt (the soft prompt,
   * then "<bo> is <image>…"); 'average' asks each alone and averages the two margins.
   */
  withReferences?: 'prompt' | 'average';
}

/** Hard and random negatives per subject, as the paper's recipe takes them. */
export const HARD = 50;
export const RANDOM = 50;
export const VARIANTS: Record<string, Variant> = {
  base: { kind: 'base' },
  base_description: { kind: 'description' },
  reference_images: { kind: 'reference' },
  yollava_k0: { kind: 'trained', overrides: { tokens: 0 } },
  yollava_k4: { kind: 'trained', overrides: { tokens: 4 } },
  yollava_k16: { kind: 'trained', overrides: {} },
  // The recipe before revision 2, one change at a time: k = 16 started from the vocabulary's mean (the
  // paper's start), and k = 16 trained on free-form conversations only.
  yollava_k16_vocab_init: { kind: 'trained', overrides: {}, init: 'vocab-mean', onRequest: true },
  no_two_option_conversations: { kind: 'trained', overrides: { choices: false }, onRequest: true },
  // Ablations keep the number of negatives: only their kind or the conversations change.
  no_hard_negatives: { kind: 'trained', overrides: { hard: 0, random: HARD + RANDOM } },
  no_conversations: { kind: 'trained', overrides: { conversations: false } },
  recognition_only: { kind: 'trained', overrides: { hard: 0, random: HARD + RANDOM, conversations: false } },
  head_rows_name: { kind: 'trained', overrides: { headRows: 'name' } },
  // Not in the paper: the trained k = 16 concept, text-only questions asked after its own description.
  yollava_k16_self_description: { kind: 'trained', reuses: 'yollava_k16', selfDescription: true },
  // Not in the paper: the trained k = 16 concept read together with the reference photos, in one prompt
  // or as two readings whose margins are averaged. Nothing is trained for them.
  yollava_k16_references_prompt: {
    kind: 'trained',
    reuses: 'yollava_k16',
    withReferences: 'prompt',
    onRequest: true,
  },
  yollava_k16_references_average: {
    kind: 'trained',
    reuses: 'yollava_k16',
    withReferences: 'average',
    onRequest: true,
  },
  // Not a method: a logistic probe on the frozen vision features, trained on the recipe's recognition data
  // (vision-probe.ts). Recognition only; what the photos and the tower allow without the language model.
  vision_probe: { kind: 'probe', onRequest: true },
  vision_probe_positives_x10: { kind: 'probe', positiveWeight: 10, onRequest: true },
};

export interface Figures {
  recognition_positive: number;
  recognition_negative: number;
  recognition_weighted: number;
  lookalike_negative: number;
  visual_qa: number;
  text_qa: number;
  seconds_per_subject: number;
  /** Text-only QA per kind of question (colour, kind, …): where the answers go wrong. */
  text_qa_by_question: Record<string, number>;
  calibrated: {
    recognition_positive: number;
    recognition_negative: number;
    recognition_weighted: number;
    lookalike_negative: number;
    /** Two-option QA read in both orders (qa.ts): a leaning towards one letter cancels out. */
    visual_qa: number;
    text_qa: number;
    text_qa_by_question: Record<string, number>;
  };
  /**
   * A trained concept's recognition at the threshold it calibrated on its own training photos while it
   * trained (kept in concept.json; the product decides raw, docs/evaluation.md).
   */
  own_threshold?: {
    threshold: number;
    recognition_positive: number;
    recognition_negative: number;
    recognition_weighted: number;
    lookalike_negative: number;
  };
}

/** The PNG files of a folder, sorted (none when it is missing). */
export const pngFiles = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.png'))
        .sort()
        .map((f) => path.join(dir, f))
    : [];

const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

export async function scoreVariant(
  model: LlavaModel,
  subjectFile: string,
  workspaceDir: string,
  variant: Variant,
  others: string[],
  /** A trained variant's concept as it stands (per-epoch scoring) instead of the one saved on disk. */
  given?: Concept,
): Promise<Omit<Figures, 'seconds_per_subject'>> {
  const s = openSubject(subjectFile, { model, workspaceDir });
  const dir = path.dirname(subjectFile);
  const fresh = referenceConcept(model, s.subject.name);
  const name = fresh.tokens.nameToken;
  const references = async (): Promise<Float32Array[]> => s.store.projected(pickReferences(s.subject.train));
  const referenceReader = (refs: Float32Array[]): Reader => ({
    concept: fresh,
    prefix: referencePrefix(name, refs.length),
    refs,
  });
  // Each reading of the subject: the prompt it is introduced by, and the rows and photos that prompt holds.
  // A variant with two readings scores each photo and each option by the mean of their margins.
  const readers: Reader[] = [];
  let ownThreshold: number | undefined;
  if (variant.kind === 'trained') {
    const concept = given ?? loadConcept(artifactDir(workspaceDir, s.subject.name), model).concept;
    if (!variant.withReferences) ownThreshold = concept.threshold;
    const soft = softPrompt(concept.tokens);
    if (variant.withReferences === 'prompt') {
      const refs = await references();
      readers.push({ concept, prefix: `${soft} ${referencePrefix(name, refs.length)}`, refs });
    } else {
      const textPrefix = variant.selfDescription
        ? (concept.selfDescription ?? (await describeItself(model, s.ctx, concept)) ?? undefined)
        : undefined;
      readers.push({ concept, prefix: soft, textPrefix, refs: [] });
      if (variant.withReferences === 'average') readers.push(referenceReader(await references()));
    }
  } else if (variant.kind === 'description')
    readers.push({ concept: fresh, prefix: `${name} is ${s.subject.description}.`, refs: [] });
  else if (variant.kind === 'reference') readers.push(referenceReader(await references()));
  else readers.push({ concept: fresh, prefix: '', refs: [] });

  const run = async (images: string[]): Promise<number[]> => {
    const features = await s.store.projected(images);
    const each: number[][] = [];
    for (const r of readers)
      each.push(
        await recognitionScores(
          model,
          s.ctx,
          s.yesNo,
          { concept: r.concept, nameText: name, prefix: r.prefix, references: r.refs },
          features,
        ),
      );
    return features.map((_, i) => mean(each.map((x) => x[i]!)));
  };
  const testPos = await run(s.subject.test);
  const testNeg = await run(others);
  const look = await run(pngFiles(path.join(dir, 'lookalikes')));
  const calibration = { pos: await run(s.subject.train), neg: await run(s.subject.pools.slice(0, 30)) };
  const scored = scoreRecognition({ pos: testPos, neg: testNeg }, calibration);
  const lookalike = (t: number) => accuracy([], look, t).negative;
  const qa = readQaFile(subjectFile)!;
  const qaRng = new Rng(17);
  const answers = (items: QaItem[], text: boolean) =>
    answersFromMargins(items, qaRng, async (q, swapped) => {
      const margins = [];
      for (const r of readers) {
        const rows = { embeddings: r.concept.embeddings, head: r.concept.head };
        const prefix = text ? (r.textPrefix ?? r.prefix) : r.prefix;
        margins.push(await rightOptionMargin(model, s.ctx, s.store, q, swapped, prefix, name, rows, r.refs));
      }
      return mean(margins);
    });
  const visual = await answers(qa.visual, false);
  const text = await answers(qa.text, true);
  return {
    recognition_positive: scored.raw.positive,
    recognition_negative: scored.raw.negative,
    recognition_weighted: scored.raw.weighted,
    lookalike_negative: lookalike(0),
    visual_qa: share(visual.raw),
    text_qa: share(text.raw),
    text_qa_by_question: byQuestion(qa.text, text.raw),
    calibrated: {
      recognition_positive: scored.calibrated.positive,
      recognition_negative: scored.calibrated.negative,
      recognition_weighted: scored.calibrated.weighted,
      lookalike_negative: lookalike(scored.threshold),
      visual_qa: share(visual.balanced),
      text_qa: share(text.balanced),
      text_qa_by_question: byQuestion(qa.text, text.balanced),
    },
    ...(ownThreshold === undefined
      ? {}
      : {
          own_threshold: {
            threshold: ownThreshold,
            ...prefixed(accuracy(testPos, testNeg, ownThreshold)),
            lookalike_negative: lookalike(ownThreshold),
          },
        }),
  };
}

/** { positive, negative, weighted } → the figures' names. */
function prefixed(r: { positive: number; negative: number; weighted: number }) {
  return {
    recognition_positive: r.positive,
    recognition_negative: r.negative,
    recognition_weighted: r.weighted,
  };
}

interface Reader {
  concept: Concept;
  prefix: string;
  /** Replaces `prefix` before text-only questions. */
  textPrefix?: string;
  refs: Float32Array[];
}

const share = (right: boolean[]): number =>
  right.length ? right.filter(Boolean).length / right.length : NaN;

/** "What kind of thing is <name>?" → "kind": one column per kind of question. */
export function questionKind(q: string): string {
  const m = /\b(color|kind|pattern|wearing|made of)\b/.exec(q);
  return m ? m[1]!.replace(' ', '_') : q;
}

function byQuestion(items: QaItem[], right: boolean[]): Record<string, number> {
  const out: Record<string, number[]> = {};
  items.forEach((q, i) => (out[questionKind(q.question)] ??= []).push(right[i] ? 1 : 0));
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, mean(v)]));
}
