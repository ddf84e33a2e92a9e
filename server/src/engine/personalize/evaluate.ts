// Evaluation of a trained subject (DESIGN §6): recognition on held-out photos, with other subjects' test
// photos and pool images never trained on as negatives; two-option visual and text QA when a question
// file exists; and the baselines the paper reports that we can run: the base model asked with the plain
// name, and the base model given the file's description as a text prompt.
import { Rng } from '../util/rng';
import { artifactDir, loadConcept, type ConceptMeta } from './concept';
import { contentHash } from '../subject/image-files';
import { openSubject, type PersonalizeOptions } from './personalize';
import { softPrompt } from './prompts';
import { qaAnswers, readQaFile, type QaItem } from './qa';
import {
  recognitionScores,
  scoreRecognition,
  type RecognitionAccuracy,
  type ScoredRecognition,
} from './recognition';
import { pickReferences, referenceConcept, referencePrefix } from './reference-mode';
import { loadSubject } from '../subject/subject';
import { otherSubjectFiles } from '../subject/sibling-subjects';

export type { ScoredRecognition } from './recognition';

export interface EvalResult {
  /** Raw scoring (P(Yes) > P(No)); the calibrated figures are under `calibrated`. */
  recognition_positive: number;
  recognition_negative: number;
  recognition_weighted: number;
  /** Two-option QA under `calibrated` is read in both option orders (qa.ts). */
  calibrated: RecognitionAccuracy & { threshold: number; visual_qa?: number; text_qa?: number };
  visual_qa?: number;
  text_qa?: number;
  baselines: {
    base_model: ScoredRecognition;
    description_prompt?: ScoredRecognition;
    /** Instant mode: training photos as references in the prompt, no training. */
    reference_images?: ScoredRecognition;
  };
  counts: {
    positives: number;
    negatives_other_subjects: number;
    negatives_unseen_pool: number;
    calibration_positives: number;
    calibration_negatives: number;
  };
  concept: Pick<ConceptMeta, 'name' | 'bestEpoch' | 'createdAt' | 'selfDescription'>;
}

export async function evaluateSubject(
  file: string,
  opts: Pick<PersonalizeOptions, 'modelDir' | 'model' | 'pools' | 'workspaceDir' | 'provider'> & {
    maxPoolNegatives?: number;
  } = {},
): Promise<EvalResult> {
  const s = openSubject(file, opts);
  try {
    const { concept, meta } = loadConcept(
      artifactDir(s.workspaceDir, s.subject.name),
      s.model,
      s.subject.name,
    );
    if (!s.subject.test.length)
      throw new Error(`${s.subject.file}: images.test: no held-out photos to evaluate on; add a test folder`);
    const others: string[] = [];
    for (const f of otherSubjectFiles(file)) {
      try {
        others.push(...loadSubject(f).test);
      } catch {
        // a broken neighbour does not stop this evaluation
      }
    }
    const used = new Set(meta.usedImages);
    const testHashes = new Set(s.subject.test.map(contentHash));
    const unseen = s.subject.pools
      .filter((p) => !used.has(contentHash(p)) && !testHashes.has(contentHash(p)))
      .slice(0, opts.maxPoolNegatives ?? 100);
    const negatives = [...others, ...unseen];
    // Calibration: the training photos against the pool images training used (never test images).
    const calNegatives = s.subject.pools
      .filter((p) => used.has(contentHash(p)) && !testHashes.has(contentHash(p)))
      .slice(0, 50);
    const sets = [s.subject.test, negatives, s.subject.train, calNegatives];
    const [posF, negF, calPosF, calNegF] = await Promise.all(sets.map((f) => s.store.projected(f)));
    // `imagesInPrompt`: how many images each prompt holds (OneVision lays several out differently; for
    // other models the features are the same whatever it is).
    const score = async (
      prompt: Parameters<typeof recognitionScores>[3],
      imagesInPrompt = 1,
    ): Promise<ScoredRecognition> => {
      const features =
        imagesInPrompt === 1
          ? [posF!, negF!, calPosF!, calNegF!]
          : await Promise.all(sets.map((f) => s.store.projected(f, undefined, imagesInPrompt)));
      const run = (f: Float32Array[]) => recognitionScores(s.model, s.ctx, s.yesNo, prompt, f);
      const test = { pos: await run(features[0]!), neg: await run(features[1]!) };
      return scoreRecognition(test, { pos: await run(features[2]!), neg: await run(features[3]!) });
    };
    const ours = await score({ concept, nameText: concept.tokens.nameToken });
    // The baselines name the subject with a fresh, untrained <bo> row: what the name is to a model that
    // was never taught it (a plain word would be a different prompt from the trained one).
    const fresh = referenceConcept(s.model, s.subject.name);
    const name = fresh.tokens.nameToken;
    const baselines: EvalResult['baselines'] = {
      base_model: await score({ concept: fresh, nameText: name, prefix: '' }),
    };
    if (s.subject.description) {
      baselines.description_prompt = await score({
        concept: fresh,
        nameText: name,
        prefix: `${name} is ${s.subject.description}.`,
      });
    }
    const references = pickReferences(s.subject.train);
    baselines.reference_images = await score(
      {
        concept: fresh,
        nameText: name,
        prefix: referencePrefix(name, references.length),
        references: await s.store.projected(references, undefined, 1 + references.length),
      },
      1 + references.length,
    );
    const result: EvalResult = {
      recognition_positive: ours.raw.positive,
      recognition_negative: ours.raw.negative,
      recognition_weighted: ours.raw.weighted,
      calibrated: { ...ours.calibrated, threshold: ours.threshold },
      baselines,
      counts: {
        positives: posF!.length,
        negatives_other_subjects: others.length,
        negatives_unseen_pool: unseen.length,
        calibration_positives: calPosF!.length,
        calibration_negatives: calNegF!.length,
      },
      concept: {
        name: meta.name,
        bestEpoch: meta.bestEpoch,
        createdAt: meta.createdAt,
        ...(concept.selfDescription ? { selfDescription: concept.selfDescription } : {}),
      },
    };
    const qa = readQaFile(file);
    if (qa) {
      const rng = new Rng(17);
      const rows = { embeddings: concept.embeddings, head: concept.head };
      const prefix = softPrompt(concept.tokens);
      const share = (right: boolean[]): number => right.filter(Boolean).length / right.length;
      const read = (items: QaItem[]) =>
        qaAnswers(s.model, s.ctx, s.store, items, prefix, concept.tokens.nameToken, rows, rng);
      if (qa.visual.length) {
        const a = await read(qa.visual);
        result.visual_qa = share(a.raw);
        result.calibrated.visual_qa = share(a.balanced);
      }
      if (qa.text.length) {
        const a = await read(qa.text);
        result.text_qa = share(a.raw);
        result.calibrated.text_qa = share(a.balanced);
      }
    }
    return result;
  } finally {
    if (!opts.model) await s.model.release();
  }
}
