// Evaluation of a trained subject (DESIGN §6): recognition on held-out photos, with other subjects' test
// photos and pool images never trained on as negatives; two-option visual and text QA when a question
// file exists; and the baselines the paper reports that we can run: the base model asked with the plain
// name, and the base model given the file's description as a text prompt.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { Rng } from '../util/rng';
import { artifactDir, loadConcept, type ConceptMeta } from './concept';
import { contentHash } from './image-files';
import { openSubject, type PersonalizeOptions } from './personalize';
import { softPrompt } from './prompts';
import { qaAccuracy, readQaFile } from './qa';
import { accuracy, recognitionScores, type RecognitionAccuracy } from './recognition';
import { loadSubject } from './subject';

export interface EvalResult {
  recognition_positive: number;
  recognition_negative: number;
  recognition_weighted: number;
  visual_qa?: number;
  text_qa?: number;
  baselines: { base_model: RecognitionAccuracy; description_prompt?: RecognitionAccuracy };
  counts: { positives: number; negatives_other_subjects: number; negatives_unseen_pool: number };
  threshold: number;
  concept: Pick<ConceptMeta, 'name' | 'bestEpoch' | 'createdAt'>;
}

/** Subject files in the workspace (the subject's parent folder, two levels down), other than `file`. */
export function otherSubjectFiles(file: string): string[] {
  const root = path.dirname(path.dirname(path.resolve(file)));
  const out: string[] = [];
  const walk = (dir: string, depth: number): void => {
    if (depth < 0 || !existsSync(dir)) return;
    for (const n of readdirSync(dir)) {
      if (n.startsWith('.') || n === 'node_modules') continue;
      const p = path.join(dir, n);
      const st = statSync(p);
      if (st.isDirectory()) walk(p, depth - 1);
      else if (/\.subject\.ya?ml$/.test(n) && p !== path.resolve(file)) out.push(p);
    }
  };
  walk(root, 2);
  return out.sort();
}

export async function evaluateSubject(
  file: string,
  opts: Pick<PersonalizeOptions, 'modelDir' | 'model' | 'pools' | 'workspaceDir' | 'provider'> & {
    maxPoolNegatives?: number;
  } = {},
): Promise<EvalResult> {
  const s = openSubject(file, opts);
  try {
    const { concept, meta } = loadConcept(artifactDir(s.workspaceDir, s.subject.name), s.model);
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
    const posF = await s.store.projected(s.subject.test);
    const negF = await s.store.projected(negatives);
    const score = async (prompt: Parameters<typeof recognitionScores>[3]) => ({
      pos: await recognitionScores(s.model, s.ctx, s.yesNo, prompt, posF),
      neg: await recognitionScores(s.model, s.ctx, s.yesNo, prompt, negF),
    });
    const ours = await score({ concept, nameText: concept.tokens.nameToken });
    const rec = accuracy(ours.pos, ours.neg, concept.threshold);
    const base = await score({ concept: null, nameText: s.subject.name });
    const baselines: EvalResult['baselines'] = { base_model: accuracy(base.pos, base.neg, 0) };
    if (s.subject.description) {
      const desc = await score({
        concept: null,
        nameText: s.subject.name,
        textPrefix: `${s.subject.name} is ${s.subject.description}.`,
      });
      baselines.description_prompt = accuracy(desc.pos, desc.neg, 0);
    }
    const result: EvalResult = {
      recognition_positive: rec.positive,
      recognition_negative: rec.negative,
      recognition_weighted: rec.weighted,
      baselines,
      counts: {
        positives: posF.length,
        negatives_other_subjects: others.length,
        negatives_unseen_pool: unseen.length,
      },
      threshold: concept.threshold,
      concept: { name: meta.name, bestEpoch: meta.bestEpoch, createdAt: meta.createdAt },
    };
    const qa = readQaFile(file);
    if (qa) {
      const rng = new Rng(17);
      const rows = { embeddings: concept.embeddings, head: concept.head };
      const prefix = softPrompt(concept.tokens);
      if (qa.visual.length)
        result.visual_qa = await qaAccuracy(
          s.model,
          s.ctx,
          s.store,
          qa.visual,
          prefix,
          concept.tokens.nameToken,
          rows,
          rng,
        );
      if (qa.text.length)
        result.text_qa = await qaAccuracy(
          s.model,
          s.ctx,
          s.store,
          qa.text,
          prefix,
          concept.tokens.nameToken,
          rows,
          rng,
        );
    }
    return result;
  } finally {
    if (!opts.model) await s.model.release();
  }
}
