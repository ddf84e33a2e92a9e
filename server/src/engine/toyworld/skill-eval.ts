// Held-out accuracy of the model on each pretraining skill, on samples drawn from a stream that training
// never sees. Yes/no skills are scored as recognition is (P(Yes) against P(No) at the first answer token,
// so 0.5 is chance on their balanced samples); the others need every answer token right under teacher
// forcing.
import { Graph, serialize } from '../graph/index';
import type { LlavaConfig } from '../models/llava/config';
import { WeightInputs } from '../models/llava/weight-inputs';
import type { WeightMap } from '../models/llava/weights';
import { buildWholeModelGraph } from '../models/llava/whole-model-graph';
import { GraphSession } from '../runtime/session';
import { Rng } from '../util/rng';
import { makeBatch, randomNameRows, type PretrainEncoder } from './pretrain-batch';
import { SKILLS, skillSample, type Skill, type SkillSample } from './skills';

/**
 * accuracy: as the model answers. auc (two-way skills): how well logit(first) − logit(second) of the two
 * answers (alphabetical: "No"/"Yes", "A"/"B") ranks the samples whose answer is the first, whatever the
 * bias: 0.5 is no signal. A model that always says "No" has chance accuracy but may still rank, and a
 * calibrated threshold (as recognition uses) recovers what it ranks.
 */
export type SkillScores = Partial<Record<Skill, { accuracy: number; n: number; auc?: number }>>;

/** P(a positive's margin > a negative's), ties counting half. */
export function rankAuc(margins: { m: number; positive: boolean }[]): number | undefined {
  const pos = margins.filter((x) => x.positive).map((x) => x.m);
  const neg = margins.filter((x) => !x.positive).map((x) => x.m);
  if (!pos.length || !neg.length) return undefined;
  let wins = 0;
  for (const p of pos) for (const n of neg) wins += p > n ? 1 : p === n ? 0.5 : 0;
  return wins / (pos.length * neg.length);
}

/** The held-out stream's seed: pretraining draws from stepRng(seed, step), never from this one. */
const HELD_OUT_SEED = 0x5eed_0ff;

export async function evaluateSkills(
  config: LlavaConfig,
  weights: WeightMap,
  enc: PretrainEncoder,
  opts: { samplesPerSkill?: number; batch?: number; threads?: number; skills?: readonly Skill[] } = {},
): Promise<SkillScores> {
  const g = new Graph('pretrain-eval');
  const w = new WeightInputs(g, weights);
  const session = await GraphSession.create(serialize(buildWholeModelGraph(g, config, w, { mode: 'eval' })), {
    threads: opts.threads,
    name: 'pretrain eval graph',
  });
  const feeds = w.feeds();
  const V = config.text.vocab;
  const per = opts.samplesPerSkill ?? 64;
  const bs = opts.batch ?? 16;
  const table = weights.get('lm.embed_tokens.weight')!.data as Float32Array;
  const scores: SkillScores = {};
  try {
    for (const [k, skill] of (opts.skills ?? SKILLS).entries()) {
      const rng = new Rng(HELD_OUT_SEED + 7919 * k);
      let correct = 0;
      const margins: { m: number; positive: boolean }[] = [];
      for (let done = 0; done < per; done += bs) {
        const samples: SkillSample[] = Array.from({ length: Math.min(bs, per - done) }, () =>
          skillSample(skill, rng),
        );
        const batch = await makeBatch(
          enc,
          samples,
          samples.map((s) => enc.encode(s)),
          randomNameRows(table, V, config.text.hidden, samples.length, rng),
        );
        const logits = (await session.run({ ...feeds, ...batch.feeds }))['logits']!.data as Float32Array;
        samples.forEach((s, b) => {
          const span = batch.labelSpans[b]!;
          if (s.contrast) {
            const row = span.start * V;
            const [right, wrong] = s.contrast.map((w) => enc.tokenizer.idOf(w)!);
            if (logits[row + right!]! > logits[row + wrong!]!) correct++;
            const [first, second] = [...s.contrast].sort();
            margins.push({
              m: logits[row + enc.tokenizer.idOf(first!)!]! - logits[row + enc.tokenizer.idOf(second!)!]!,
              positive: s.contrast[0] === first,
            });
            return;
          }
          let ok = true;
          for (let j = span.start; j < span.start + span.count && ok; j++) {
            const row = logits.subarray(j * V, (j + 1) * V);
            let best = 0;
            for (let v = 1; v < V; v++) if (row[v]! > row[best]!) best = v;
            ok = best === batch.labelIds[j];
          }
          if (ok) correct++;
        });
      }
      scores[skill] = { accuracy: correct / per, n: per, auc: rankAuc(margins) };
    }
  } finally {
    await session.release();
  }
  return scores;
}
