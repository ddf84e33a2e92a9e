// Why the default model's pretraining recipe is what it is: what was measured while building it. Kept
// apart from the report's layout (training-report.ts), one sentence per line so that it can be read and
// edited as prose.

/** A paragraph from its sentences. */
const sentences = (...s: string[]): string => s.join(' ');

/** The report's "Why the recipe is what it is" section, a Markdown line per entry. */
export const WHY_THE_RECIPE: string[] = [
  'Measured while building it (all on this 2-core machine):',
  sentences(
    '- With peak lr 1.5e-3 and the whole mixture from step 0, held-out accuracy stayed at chance on every visual skill for 1,600 steps.',
    'The projected image features grew from rms 1 to 85, almost all of it a part shared by every image: the decoder normalizes each position (RMSNorm), so its loss cannot see their scale, and under Adam it only grows.',
  ),
  sentences(
    '- A penalty on the whole mean square of the features then drove their image-dependent part to exactly 0 by step 1,300: the vision path was dead.',
    'The penalty now acts only on the shared part.',
  ),
  sentences(
    '- With that fixed, lr 6e-4 and the curriculum, the joint run still sat at chance on every yes/no skill after 3,000 steps (attribute answers 0.22): a ViT trained from scratch only through the language model learns too slowly from the ~25 photos a joint step sees.',
    'Trained alone with probes, 48 photos a step at a fraction of the cost, it reached 0.74 colour and 0.82 position accuracy in 300 steps.',
    'Hence the vision stage.',
  ),
  sentences(
    '- On a fixed batch of 16 photos and the question "What color is the dog?", lr 2e-3 could not memorize the answers (the loss bounced between 0.1 and 0.4 for 300 steps), while 5e-4 reached 0.02.',
    'A colour question alone, on fresh photos at 5e-4, reached 0.73 held-out accuracy in 500 steps; five mixed attribute questions had not left chance after 1,200.',
    'Hence lr 6e-4 and the grounding-first curriculum.',
  ),
  sentences(
    '- After the base stage every two-way skill answered one way whatever the input, and not as a bias a threshold could fix: the ranking of logit(Yes) − logit(No) carried no signal (AUC on 200 held-out samples: presence 0.48, name + description 0.46, reference 0.47, two-option 0.43), while the model answered colour questions about a photo at 0.86 and copied attributes from a description at 0.80.',
    'Continuations without decision probes changed nothing: 2,200 steps with 25 % presence, 25 % attribute and 15 % two-option QA; 1,000 steps with the vision tower frozen at lr 2e-3; 3,400 steps with tied input and output embeddings (AUC 0.43–0.51); presence alone, 400 steps, whose answer loss sat at exactly ln 2.',
    'With the decision probes, 1,750 steps of the comparison stage lifted name + description from 0.47 to 0.78 and reference images from 0.51 to 0.66 (64 samples each), and the probes showed why: the facts of both sides reached the deciding position within 500 steps (colour 0.8–0.9), and agreement on colour rose above its base rate after them.',
  ),
  sentences(
    "- The base stage's vision stage ended with its probes still rising (kind 0.68, accessory 0.39, the mark's spot 0.22 at step 1,200), and the model built on it answered attribute questions at 0.60.",
    "Trained alone again from that model for 950 more steps, the tower reached kind 0.84 and accessory 0.55, but the mark's spot only 0.26 at the radius it had then (0.2 silhouette units, about 3 pixels); at radius 0.4 it reached 0.43 (with patterns at 0.74 against 0.84).",
    'Hence the detail stage: a mark of radius 0.35 whose tone a look-alike never shares, a longer vision stage, then the mixture again so the language model reads the sharper features.',
  ),
  sentences(
    "- With the human-written description in the prompt (npm run bench -- qa-reading, 20 fresh subjects), the detail model's mean logit margin for the right option was 2.35 on colour and 2.55 on pattern but 0.30 on kind, 0.32 on the accessory and 0.00 on the material.",
    'The choice stage lifted kind to 3.09 and the accessory to 1.22, the material only to 0.45.',
    'Concepts trained on that model said what their subject is made of in words for 10 of 10 benchmark subjects, yet could not pick "Metal" over "Fur" even with "<bo> is made of metal." in the prompt: the capitalized option words were in no answer but two-option ones, and no decision probe compared materials.',
    'After the material stage the margin on the material is 4.76 (kind 4.47, accessory 1.58).',
  ),
  sentences(
    '- Concepts trained on the material model for the benchmark (k = 16, seeds 7000..7009) rejected only 0.55 of the look-alike negatives they had been trained on (0.19-0.79 per subject), against 0.85-1.00 of their same-kind negatives: not overfitting, but a frozen model that could not tell look-alikes apart from a soft prompt.',
    "A look-alike's mark always has the other tone, which the tower's probe reads in 93 % of photos, but the decision probes compared only the mark's spot.",
    "With the tone compared too, the tone stage's probes read it on both sides of the deciding position (0.95 and 0.94 at its end), reference images went from 0.755 to 0.800 held-out (AUC 0.801 to 0.871), and on five fresh subjects (seeds 6200..6204) k = 16 concepts rejected 0.70 of their look-alikes, against 0.62 on the material model.",
  ),
  sentences(
    '- Concepts trained on the tone model for the benchmark (seeds 7000..7009) still read text-only questions at 0.86 and rejected 0.86 of their held-out look-alikes.',
    'The tone2 stage runs the same mixture for 3,000 more steps on fresh data: reference images went from 0.800 to 0.815 held-out (AUC 0.871 to 0.896) and two-option QA from 0.920 to 0.935 (AUC 0.981 to 0.988), and on the same benchmark subjects k = 16 concepts read text-only questions at 0.92 and rejected 0.92 of their look-alikes (weighted 0.975 against 0.946).',
    "Its steps took about 1 s each against 0.33 s for the tone stage's, on the same mixture and model; the cause was not traced.",
  ),
];

/** What the decision probes are and why a stage has them. */
export const DECISION_PROBES = sentences(
  'Training scaffolding, never exported (engine/toyworld/decision-probes.ts).',
  'At the position that predicts a two-way answer (the last prompt token, before "Yes"/"No" or "A"/"B"), linear probes on the decoder\'s residual stream ask, after layer L−3, what the subject is as the prompt holds it (kind, colour, pattern, accessory and its colour, and the mark\'s spot where a reference image shows it) and what the candidate is (the photo\'s object, or what option A says); after layer L−2, whether each pair agrees.',
  "Their summed cross-entropy, times the stage's weight, joins the loss.",
  'A yes/no answer can only be right once both sides meet at that one position, and its single answer token gives no first-order signal for routing them there; the probes give that signal.',
);
