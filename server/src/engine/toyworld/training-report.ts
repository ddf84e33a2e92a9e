// TRAINING.md beside the default model: the recipe, the mixture, the loss curve, the held-out accuracy
// per skill and the wall time, all read from the run's record (so it can be written again at any time).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { PretrainRecord } from './pretrain';
import { MIXTURE, SKILLS, type Skill } from './skills';

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

export function writeTrainingReport(dir: string, r: PretrainRecord): void {
  const last = r.evals[r.evals.length - 1];
  const s = r.spec;
  const lines: string[] = [];
  lines.push('# toy-llava: how it was trained', '');
  lines.push(
    'The embedded default model of yollava, pretrained from scratch by `npm run pretrain` (engine/toyworld/pretrain.ts) on',
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
    ...(r.initializedFrom
      ? [`- started from the exported model ${r.initializedFrom} (no vision stage in this run)`]
      : []),
    ...(r.vision
      ? [
          `- stage 1, vision: the tower alone for ${r.vision.steps} AdamW steps of ${r.vision.batch} fresh photos (lr ${r.vision.lr}, warm-up 100 steps, cosine to 0.1×), supervised by linear probes on its output that predict the main object's kind, colour, pattern, accessory and its colour, position, the spot of its small mark, and the number of distractors; the probes are then dropped. The first 48 rows of the patch embedding start as 4×4-block colour averages`,
          '- stage 2, joint: every weight of the model, as below',
        ]
      : []),
    `- ${r.steps} AdamW steps of ${r.batch} samples; peak lr ${r.lr}, linear warm-up over ${r.warmup} steps, cosine decay to 0.1× peak; betas (0.9, 0.999); weight decay ${r.weightDecay} on the language model's matrices only (not on norms, biases, embeddings, nor on the vision tower and projector); global gradient-norm clip ${r.clip}`,
    `- loss: next-token cross-entropy on the answer tokens (and the end-of-sequence token), each answer weighted to count once (a yes/no or A/B answer's first token carries half of it), plus ${r.featurePenalty} × the mean square of the part of the projected image features that every image of the batch shares${r.probeWeight ? `, plus ${r.probeWeight} × the probes' cross-entropy on the projected features` : ''}`,
    ...(r.curriculum ?? []).map(
      (c) =>
        `- curriculum: steps before ${c.until} draw from ${Object.entries(c.mixture)
          .map(([k, v]) => `${k} ${Math.round((v ?? 0) * 100)} %`)
          .join(', ')}; then the mixture below`,
    ),
    `- data: the samples of step s are drawn from a generator seeded by (seed ${r.seed}, s), so a resumed run sees exactly what an uninterrupted one would`,
    '- made-up names: `<zib>` is not a vocabulary word. Each sample gives its name a fresh random embedding row (the vocabulary mean plus noise), as personalization gives `<bo>` a new row; the name is not scored where an answer repeats it',
    '',
    '## Mixture',
    '',
    '| skill | share | what |',
    '|---|---|---|',
  );
  for (const k of SKILLS) lines.push(`| ${k} | ${(MIXTURE[k] * 100).toFixed(0)} % | ${SKILL_TEXT[k]} |`);
  if (r.vision) {
    const last = r.vision.curve[r.vision.curve.length - 1];
    const first = r.vision.curve[0];
    if (last && first) {
      lines.push(
        '',
        '## Vision stage',
        '',
        'Probe accuracy on the fresh photos of each 50-step window (no photo is seen twice):',
        '',
      );
      lines.push(
        `| step | probe loss | ${Object.keys(last.accuracy).join(' | ')} |`,
        `|---|---|${Object.keys(last.accuracy)
          .map(() => '---')
          .join('|')}|`,
      );
      const every = Math.max(1, Math.ceil(r.vision.curve.length / 10));
      r.vision.curve.forEach((c, i) => {
        if (i % every === 0 || i === r.vision!.curve.length - 1)
          lines.push(
            `| ${c.step} | ${c.loss.toFixed(2)} | ${Object.values(c.accuracy)
              .map((a) => a.toFixed(2))
              .join(' | ')} |`,
          );
      });
      lines.push('', `${r.vision.wallSeconds.toFixed(0)} s.`);
    }
  }
  lines.push('', '## Held-out accuracy per skill', '');
  if (last) {
    lines.push(
      `At step ${last.step}, on samples from a stream that training never draws from. Yes/no and A/B skills compare the two first answer tokens (0.5 is chance); the others need every answer token right (teacher-forced).`,
      '',
      '| skill | accuracy | samples | chance |',
      '|---|---|---|---|',
    );
    for (const k of SKILLS) {
      const v = last.scores[k];
      if (v) lines.push(`| ${k} | ${v.accuracy.toFixed(3)} | ${v.n} | ${YES_NO.includes(k) ? '0.5' : '—'} |`);
    }
    if (r.evals.length > 1) {
      lines.push(
        '',
        'During training:',
        '',
        `| step | ${SKILLS.join(' | ')} |`,
        `|---|${SKILLS.map(() => '---').join('|')}|`,
      );
      for (const e of r.evals)
        lines.push(
          `| ${e.step} | ${SKILLS.map((k) => e.scores[k]?.accuracy.toFixed(2) ?? '').join(' | ')} |`,
        );
    }
  } else lines.push('Not evaluated yet.');
  lines.push(
    '',
    '## Why the recipe is what it is',
    '',
    'Measured while building it (all on this 2-core machine):',
    '- With peak lr 1.5e-3 and the whole mixture from step 0, held-out accuracy stayed at chance on every visual skill for 1,600 steps. The projected image features grew from rms 1 to 85, almost all of it a part shared by every image: the decoder normalizes each position (RMSNorm), so its loss cannot see their scale, and under Adam it only grows.',
    '- A penalty on the whole mean square of the features then drove their image-dependent part to exactly 0 by step 1,300: the vision path was dead. The penalty now acts only on the shared part.',
    '- With that fixed, lr 6e-4 and the curriculum, the joint run still sat at chance on every yes/no skill after 3,000 steps (attribute answers 0.22): a ViT trained from scratch only through the language model learns too slowly from the ~25 photos a joint step sees. Trained alone with probes, 48 photos a step at a fraction of the cost, it reached 0.74 colour and 0.82 position accuracy in 300 steps. Hence the vision stage.',
    '- On a fixed batch of 16 photos and the question "What color is the dog?", lr 2e-3 could not memorize the answers (the loss bounced between 0.1 and 0.4 for 300 steps), while 5e-4 reached 0.02. A colour question alone, on fresh photos at 5e-4, reached 0.73 held-out accuracy in 500 steps; five mixed attribute questions had not left chance after 1,200. Hence lr 6e-4 and the grounding-first curriculum.',
    '',
    '## What this model cannot do yet, and what was tried',
    '',
    'Every two-way skill (presence, name + description, reference images, two-option QA) answers one way whatever the input. It is not a bias that a threshold could correct: the ranking of logit(Yes) − logit(No) carries no signal either (AUC on 200 held-out samples: presence 0.48, name + description 0.46, reference 0.47, two-option 0.43; 0.5 is none). The model reads images (count 0.87, colour and kind answers well above chance) and copies from a description (0.80), but it never learned to compare what a question names with what an image shows. Continuations from this model, each from `--from samples/models/toy-llava` (flags of `npm run pretrain`):',
    '- 2,200 steps with a curriculum of 25 % presence, 25 % attribute, 15 % two-option QA (`--curriculum`): presence stayed at 0.48–0.52, two-option QA at 0.38/0.63 (one answer always).',
    '- 1,000 steps with the vision tower frozen and lr 2e-3 on the rest (`--freeze vision. --lr 2e-3`): the same, and the skills left out of its mixture decayed.',
    '- 3,400 steps with tied input and output embeddings (`--tie`), so that the word a question names and the word an answer would give share one direction: the same (AUC 0.43–0.51).',
    'Small transformers are known to learn such comparisons only after long plateaus; this machine gives about 10,000 steps an hour. What to try next: much longer runs, a larger batch, and a mixture that introduces comparison only once attribute answers pass about 0.7.',
    '',
  );
  lines.push(
    '## Loss curve',
    '',
    '| step | mean loss | lr | image features rms | s/step |',
    '|---|---|---|---|---|',
  );
  const every = Math.max(1, Math.ceil(r.curve.length / 40));
  r.curve.forEach((c, i) => {
    if (i % every === 0 || i === r.curve.length - 1)
      lines.push(
        `| ${c.step} | ${c.loss.toFixed(3)} | ${c.lr.toExponential(2)} | ${c.secondsPerStep.toFixed(3)} |`,
      );
  });
  const hours = r.wallSeconds / 3600;
  lines.push(
    '',
    '## Wall time',
    '',
    `${r.step} steps, ${r.tokensSeen.toLocaleString('en-US')} sequence positions, ${hours.toFixed(2)} hours of step time on the development machine (2 cores), across every resumed invocation.`,
    '',
  );
  writeFileSync(path.join(dir, 'TRAINING.md'), lines.join('\n'));
}
