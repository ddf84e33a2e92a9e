// TRAINING.md beside the default model: the recipe, the mixture, the loss curve, the held-out accuracy
// per skill and the wall time, all read from the run's record (so it can be written again at any time).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { PretrainRecord } from './pretrain';
import type { RecipeStage } from './pretrain-recipe';
import { MIXTURE, SKILLS, type Skill } from './skills';
import { DECISION_PROBES, WHY_THE_RECIPE } from './training-report-notes';

const SKILL_TEXT: Record<Skill, string> = {
  caption: 'caption of a photo ("Describe the image." → "A yellow dotted dog with a red bow next to …")',
  attribute: 'attribute Q/A about a photo ("What color is the dog?" → "Yellow.")',
  conversation:
    'the recipe\'s conversation questions about a photo ("What color is the pet?" → "The pet is yellow.")',
  presence: 'presence yes/no ("Is there a cat in this photo?")',
  count: 'counting ("How many things are in the photo?")',
  name_description:
    'made-up name + description, yes/no ("<zib> is a yellow dotted dog with a red bow. Is <zib> in this photo?"); negatives differ by one attribute or are unrelated',
  name_reading:
    'reading without an image ("<zib> is a yellow dotted dog. What color is <zib>?" → "<zib> is yellow.")',
  reference:
    'reference images in context, yes/no ("<zib> is <image>. Is <zib> in this photo?"); half the negatives are look-alikes (same nameable attributes, other fine details)',
  reference_reading: 'reading a reference image ("<zib> is <image>. What color is <zib>?")',
  choice: 'two-option QA (A/B) about a photo, a description or reference images, as the evaluation asks it',
};

const YES_NO: Skill[] = ['presence', 'name_description', 'reference', 'choice'];

/** One pretraining run of the model's history, and the recipe stage it ran as (none: a lone run). */
export interface ReportStage {
  stage?: RecipeStage;
  record: PretrainRecord;
}

const f2 = (x: number | undefined): string => (x === undefined ? '' : x.toFixed(2));
const mixtureText = (m: Partial<Record<Skill, number>>): string =>
  Object.entries(m)
    .map(([k, v]) => `${k} ${Math.round((v ?? 0) * 100)} %`)
    .join(', ');

/** What every section reads: the stages and a few things derived from them once. */
interface Report {
  stages: ReportStage[];
  first: PretrainRecord;
  /** The final stage's last evaluation. */
  last: PretrainRecord['evals'][number] | undefined;
  /** The first step of each stage, counted across stages. */
  offsets: number[];
  named(i: number): string;
  anyDecision: boolean;
  visionStages: { name: string; v: NonNullable<PretrainRecord['vision']> }[];
}

function report(stages: ReportStage[]): Report {
  const final = stages[stages.length - 1]!.record;
  const offsets: number[] = [];
  stages.reduce((acc, st) => (offsets.push(acc), acc + st.record.step), 0);
  const named = (i: number): string => stages[i]!.stage?.name ?? `run ${i + 1}`;
  return {
    stages,
    first: stages[0]!.record,
    last: final.evals[final.evals.length - 1],
    offsets,
    named,
    anyDecision: stages.some((st) => st.record.decisionProbeWeight),
    visionStages: stages.flatMap((st, i) =>
      st.record.vision ? [{ name: named(i), v: st.record.vision }] : [],
    ),
  };
}

export function writeTrainingReport(dir: string, stages: ReportStage[]): void {
  const r = report(stages);
  const sections = [
    opening,
    recipe,
    decisionProbes,
    mixture,
    visionStage,
    heldOut,
    whyTheRecipe,
    lossCurve,
    wallTime,
  ];
  writeFileSync(path.join(dir, 'TRAINING.md'), sections.flatMap((section) => section(r)).join('\n'));
}

/** The title, what the model is, and its architecture. */
function opening({ stages, first }: Report): string[] {
  const s = first.spec;
  const lines: string[] = [];
  lines.push('# toy-llava: how it was trained', '');
  lines.push(
    `The embedded default model of yollava, pretrained from scratch by \`npm run pretrain\` (engine/toyworld/pretrain-recipe.ts, ${stages.length === 1 ? 'one run' : `${stages.length} stages`}) on`,
    'ToyWorld scenes generated on the fly. It is a Hugging Face LLaVA folder: a CLIP-like ViT, a two-layer MLP projector and a',
    'LLaMA-like decoder, stored in F16. All weights trained end to end.',
    '',
    '## Architecture',
    '',
    `- vision: CLIP ViT, ${s.vision.imageSize}×${s.vision.imageSize} pixels, patch ${s.vision.patchSize} (${(s.vision.imageSize / s.vision.patchSize) ** 2} image tokens), hidden ${s.vision.hidden}, ${s.vision.layers} layers, ${s.vision.heads} heads, MLP ${s.vision.intermediate}; features from the last layer, CLS dropped`,
    `- projector: Linear → GELU → Linear into the text width`,
    `- text: LLaMA decoder, hidden ${s.text.hidden}, ${s.text.layers} layers, ${s.text.heads} heads (${s.text.kvHeads} KV), SwiGLU MLP ${s.text.intermediate}, RoPE θ 10000, untied output head`,
    '- tokenizer: word-level (`tokenizer.json`, Whitespace pre-tokenizer) over every word the ToyWorld skills and the personalization templates use; chat template LLaVA-1.5 (`USER: <image>\\n… ASSISTANT:`) in `tokenizer_config.json`',
    '',
    '## Recipe',
    '',
  );
  return lines;
}

/** The stages, the vision stages, the joint step, the loss, each stage's mixture and the data. */
function recipe({ stages, first, named, anyDecision }: Report): string[] {
  const lines: string[] = [];
  if (stages.length > 1) {
    lines.push(
      'Stages, in order; each but the first starts from the model the one before it exported (weights only: fresh optimizer moments, fresh probes):',
      '',
      '| stage | what for | steps | peak lr | seed | decision probes | wall time |',
      '|---|---|---|---|---|---|---|',
    );
    stages.forEach((st, i) =>
      lines.push(
        `| ${named(i)} | ${st.stage?.purpose ?? ''} | ${st.record.step} | ${st.record.lr} | ${st.record.seed} | ${st.record.decisionProbeWeight || '—'} | ${(st.record.wallSeconds / 60).toFixed(0)} min |`,
      ),
    );
    lines.push('');
  }
  stages.forEach((st, i) => {
    const v = st.record.vision;
    if (!v) return;
    const probes = Object.keys(v.curve[v.curve.length - 1]?.accuracy ?? {}).join(', ');
    lines.push(
      `- vision stage (${named(i)}): the tower alone${i > 0 ? ', from the model the stage starts from,' : ''} for ${v.steps} AdamW steps of ${v.batch} fresh photos (lr ${v.lr}, warm-up 100 steps, cosine to 0.1×), supervised by linear probes on its output that predict what the photo shows (${probes}); the probes are then dropped${i === 0 ? '. The first 48 rows of the patch embedding start as 4×4-block colour averages' : ''}`,
    );
  });
  lines.push(
    `- every joint step: AdamW on ${first.batch} samples; linear warm-up over ${first.warmup} steps, cosine decay to 0.1× the stage's peak; betas (0.9, 0.999); weight decay ${first.weightDecay} on the language model's matrices only (not on norms, biases, embeddings, nor on the vision tower and projector); global gradient-norm clip ${first.clip}`,
    `- loss: next-token cross-entropy on the answer tokens (and the end-of-sequence token), each answer weighted to count once (a yes/no or A/B answer's first token carries half of it), plus ${first.featurePenalty} × the mean square of the part of the projected image features that every image of the batch shares${first.probeWeight ? `, plus ${first.probeWeight} × the probes' cross-entropy on the projected features` : ''}${anyDecision ? ', plus (where a stage has them) the decision probes below' : ''}`,
  );
  stages.forEach((st, i) => {
    if (st.record.mixture)
      lines.push(`- mixture of ${named(i)}, in place of the one below: ${mixtureText(st.record.mixture)}`);
    for (const c of st.record.curriculum ?? [])
      lines.push(
        `- curriculum of ${named(i)}: steps before ${c.until} draw from ${mixtureText(c.mixture)}${c.until < st.record.steps ? '; then the mixture below' : ''}`,
      );
  });
  lines.push(
    `- data: the samples of step s are drawn from a generator seeded by (the stage's seed, s), so a resumed run sees exactly what an uninterrupted one would`,
    '- made-up names: `<zib>` is not a vocabulary word. Each sample gives its name a fresh random embedding row (the vocabulary mean plus noise), as personalization gives `<bo>` a new row; the name is not scored where an answer repeats it',
  );
  return lines;
}

/** What the decision probes are, when a stage used them. */
function decisionProbes({ anyDecision }: Report): string[] {
  const lines: string[] = [];
  if (anyDecision) lines.push('', '### Decision probes', '', DECISION_PROBES);
  return lines;
}

/** The skills of the mixture, with their shares. */
function mixture(): string[] {
  const lines: string[] = [];
  lines.push('', '## Mixture', '', '| skill | share | what |', '|---|---|---|');
  for (const k of SKILLS) lines.push(`| ${k} | ${(MIXTURE[k] * 100).toFixed(0)} % | ${SKILL_TEXT[k]} |`);
  return lines;
}

/** Probe accuracy of each vision stage along its steps. */
function visionStage({ visionStages }: Report): string[] {
  const lines: string[] = [];
  if (visionStages.length)
    lines.push(
      '',
      '## Vision stage',
      '',
      'Probe accuracy on the fresh photos of each 50-step window (no photo is seen twice); the probes start afresh in each stage.',
    );
  for (const { name, v } of visionStages) {
    const vlast = v.curve[v.curve.length - 1];
    if (!vlast) continue;
    const keys = Object.keys(vlast.accuracy);
    lines.push(
      '',
      ...(visionStages.length > 1 ? [`### ${name}`, ''] : []),
      `| step | probe loss | ${keys.join(' | ')} |`,
      `|---|---|${keys.map(() => '---').join('|')}|`,
    );
    const every = Math.max(1, Math.ceil(v.curve.length / 10));
    v.curve.forEach((c, i) => {
      if (i % every === 0 || i === v.curve.length - 1)
        lines.push(
          `| ${c.step} | ${c.loss.toFixed(2)} | ${keys.map((k) => f2(c.accuracy[k])).join(' | ')} |`,
        );
    });
    lines.push('', `${v.wallSeconds.toFixed(0)} s.`);
  }
  return lines;
}

/** Held-out accuracy per skill at the end and along the way, and what the model cannot do yet. */
function heldOut({ stages, last, offsets, named, visionStages }: Report): string[] {
  const lines: string[] = [];
  lines.push('', '## Held-out accuracy per skill', '');
  if (last) {
    lines.push(
      `At the end (step ${last.step} of ${named(stages.length - 1)}), on samples from a stream that training never draws from. Yes/no and A/B skills compare the two first answer tokens (0.5 is chance), and their AUC says how well logit(first) − logit(second) ranks the samples whatever the model's bias (0.5: no signal); the others need every answer token right (teacher-forced).`,
      '',
      '| skill | accuracy | AUC | samples | chance |',
      '|---|---|---|---|---|',
    );
    for (const k of SKILLS) {
      const v = last.scores[k];
      if (v)
        lines.push(
          `| ${k} | ${v.accuracy.toFixed(3)} | ${v.auc === undefined ? '—' : v.auc.toFixed(3)} | ${v.n} | ${YES_NO.includes(k) ? '0.5' : '—'} |`,
        );
    }
    const evals = stages.flatMap((st, i) =>
      st.record.evals.map((e) => ({ step: offsets[i]! + e.step, stage: named(i), scores: e.scores })),
    );
    if (evals.length > 1) {
      lines.push(
        '',
        'During training (steps counted across stages; samples per skill in the last column):',
        '',
        `| step | stage | ${SKILLS.join(' | ')} | samples |`,
        `|---|---|${SKILLS.map(() => '---').join('|')}|---|`,
      );
      for (const e of evals)
        lines.push(
          `| ${e.step} | ${e.stage} | ${SKILLS.map((k) => f2(e.scores[k]?.accuracy)).join(' | ')} | ${Object.values(e.scores)[0]?.n ?? ''} |`,
        );
    }
    const weak = YES_NO.filter((k) => (last.scores[k]?.accuracy ?? 0) < 0.6);
    const lastVision = visionStages[visionStages.length - 1]?.v;
    const markProbe = lastVision?.curve[lastVision.curve.length - 1]?.accuracy['mark'];
    lines.push('', '## What this model cannot do yet', '');
    if (weak.length)
      lines.push(
        `- At or near chance (below 0.6): ${weak.map((k) => `${k} ${last.scores[k]!.accuracy.toFixed(2)}`).join(', ')}.`,
      );
    const toneProbe = lastVision?.curve[lastVision.curve.length - 1]?.accuracy['mark_tone'];
    const reference = last.scores.reference;
    if (markProbe !== undefined)
      lines.push(
        `- Fine details: the vision stage's probe finds the spot of an instance's mark in ${(markProbe * 100).toFixed(0)} % of photos, against ${(100 / 6).toFixed(0)} % by chance${toneProbe === undefined ? '' : `, and its tone in ${(toneProbe * 100).toFixed(0)} %`}.${reference ? ` Held against reference images, where half the negatives are look-alikes (every nameable attribute shared), the model is right on ${reference.accuracy.toFixed(2)} of held-out photos: ${markProbe < 0.35 ? 'look-alikes are told apart hardly better than by chance, and a reference image carries little more than its nameable attributes' : 'the tower sees more of what tells look-alikes apart than the language model yet uses'}.` : ''}`,
      );
  } else lines.push('Not evaluated yet.');
  return lines;
}

/** Why the recipe is what it is: what was measured while building it (training-report-notes.ts). */
function whyTheRecipe(): string[] {
  return ['', '## Why the recipe is what it is', '', ...WHY_THE_RECIPE];
}

/** The loss curve over every stage, about 50 rows. */
function lossCurve({ stages, offsets, named }: Report): string[] {
  const lines: string[] = [
    '',
    '## Loss curve',
    '',
    '| step | stage | mean loss | lr | image features rms | s/step |',
    '|---|---|---|---|---|---|',
  ];
  const curve = stages.flatMap((st, i) =>
    st.record.curve.map((c) => ({ ...c, step: offsets[i]! + c.step, stage: named(i) })),
  );
  const every = Math.max(1, Math.ceil(curve.length / 50));
  curve.forEach((c, i) => {
    if (i % every === 0 || i === curve.length - 1)
      lines.push(
        `| ${c.step} | ${c.stage} | ${c.loss.toFixed(3)} | ${c.lr.toExponential(2)} | ${c.featureRms?.toFixed(3) ?? ''} | ${c.secondsPerStep.toFixed(3)} |`,
      );
  });
  return lines;
}

/** Steps, positions and hours over every stage. */
function wallTime({ stages }: Report): string[] {
  const lines: string[] = [];
  const seconds = stages.reduce((a, st) => a + st.record.wallSeconds, 0);
  const steps = stages.reduce((a, st) => a + st.record.step, 0);
  const tokens = stages.reduce((a, st) => a + st.record.tokensSeen, 0);
  lines.push(
    '',
    '## Wall time',
    '',
    `${steps} joint steps, ${tokens.toLocaleString('en-US')} sequence positions, ${(seconds / 3600).toFixed(2)} hours of step time on the development machine (2 cores), vision stage included, across every resumed invocation.`,
    '',
  );
  return lines;
}
