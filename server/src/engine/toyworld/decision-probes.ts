// Scaffolding for the comparison skills: what the two sides of a yes/no question are, as class labels
// for linear probes on the decoder's residual stream at the position that decides the answer (see
// models/llava/whole-model-graph.ts). "Is <zib> in this photo?" after "<zib> is a yellow dog" can only
// be answered once the description's colour and kind and the photo's colour and kind meet at that one
// position, and the answer's single Yes/No token gives no first-order signal for routing them there:
// measured, the committed model stayed at chance on every two-way skill for 5,000 steps (and presence
// alone sat at exactly ln 2 for 400 more) while it answered colour questions at 0.86. The probes ask
// for the facts a few layers below the output, and whether each pair agrees a layer above them.
import { i64, type HostTensor } from '../runtime/host-tensor';
import type { WeightMap } from '../models/llava/weights';
import type { Rng } from '../util/rng';
import type { PretrainBatch } from './pretrain-batch';
import { addProbeWeight } from './probes';
import type { SkillSample } from './skills';
import {
  ACCESSORIES,
  ACCESSORY_COLORS,
  COLOR_NAMES,
  KIND_NAMES,
  MARK_SPOTS,
  MATERIALS,
  PATTERNS,
} from './world';
import type { Material, ObjectInstance } from './world';

/** What one side of a comparison states; a missing field is not stated. */
export interface SubjectFacts {
  kind?: ObjectInstance['kind'];
  color?: ObjectInstance['color'];
  pattern?: ObjectInstance['pattern'];
  accessory?: ObjectInstance['accessory'];
  accessoryColor?: ObjectInstance['accessoryColor'];
  markSpot?: number;
  /** 0 light, 1 dark: a look-alike's mark always has the other tone. */
  markTone?: 0 | 1;
  /** Stated only by the two sides of a material question: what the kind is made of, and what the option says. */
  material?: Material;
}

/**
 * The two sides of a two-way answer: the subject as the prompt holds it (a description, reference images,
 * a named kind), and the candidate it is held against (what the photo shows, or what option A says).
 */
export interface Comparison {
  subject: SubjectFacts;
  candidate: SubjectFacts;
}

/** Everything an instance shows in a photo or a reference image. */
export function shownFacts(o: ObjectInstance): SubjectFacts {
  return { ...describedFacts(o), markSpot: o.details.markSpot, markTone: o.details.markTone };
}

/** What a description ("a yellow dotted dog with a red bow") states: every nameable attribute, no mark. */
export function describedFacts(o: ObjectInstance): SubjectFacts {
  return {
    kind: o.kind,
    color: o.color,
    pattern: o.pattern,
    accessory: o.accessory,
    accessoryColor: o.accessory === 'none' ? undefined : o.accessoryColor,
  };
}

interface Fact {
  name: string;
  classes: number;
  label: (f: SubjectFacts) => number | undefined;
}

const index = <T>(xs: readonly T[], x: T | undefined): number | undefined =>
  x === undefined ? undefined : xs.indexOf(x);

const FACTS: Fact[] = [
  { name: 'kind', classes: KIND_NAMES.length, label: (f) => index(KIND_NAMES, f.kind) },
  { name: 'color', classes: COLOR_NAMES.length, label: (f) => index(COLOR_NAMES, f.color) },
  { name: 'pattern', classes: PATTERNS.length, label: (f) => index(PATTERNS, f.pattern) },
  { name: 'accessory', classes: ACCESSORIES.length, label: (f) => index(ACCESSORIES, f.accessory) },
  {
    name: 'accessory_color',
    classes: ACCESSORY_COLORS.length,
    label: (f) => index(ACCESSORY_COLORS, f.accessoryColor),
  },
  { name: 'mark', classes: MARK_SPOTS.length, label: (f) => f.markSpot },
  { name: 'mark_tone', classes: 2, label: (f) => f.markTone },
  { name: 'material', classes: MATERIALS.length, label: (f) => index(MATERIALS, f.material) },
];

/** Whether the two sides agree on an attribute; undefined where either side does not state it. */
const MATCHES: { name: string; agree: (a: SubjectFacts, b: SubjectFacts) => boolean | undefined }[] = [
  { name: 'kind', agree: (a, b) => both(a.kind, b.kind) },
  { name: 'color', agree: (a, b) => both(a.color, b.color) },
  { name: 'pattern', agree: (a, b) => both(a.pattern, b.pattern) },
  {
    name: 'accessory',
    agree: (a, b) => {
      const same = both(a.accessory, b.accessory);
      if (!same || a.accessory === 'none') return same;
      return both(a.accessoryColor, b.accessoryColor);
    },
  },
  { name: 'mark', agree: (a, b) => both(a.markSpot, b.markSpot) },
  { name: 'mark_tone', agree: (a, b) => both(a.markTone, b.markTone) },
  { name: 'material', agree: (a, b) => both(a.material, b.material) },
];

function both<T>(a: T | undefined, b: T | undefined): boolean | undefined {
  return a === undefined || b === undefined ? undefined : a === b;
}

export interface DecisionProbe {
  name: string;
  classes: number;
  layer: number;
  label: (c: Comparison) => number | undefined;
}

/**
 * The probes for a decoder of `layers` layers: the facts of both sides after layer L−3 (0-based), so that
 * two layers remain to compare them, and their agreement after layer L−2.
 */
export function decisionProbes(layers: number): DecisionProbe[] {
  const factsAt = Math.max(0, layers - 3);
  const matchAt = Math.max(factsAt, layers - 2);
  return [
    ...FACTS.flatMap((f) => [
      {
        name: `subject_${f.name}`,
        classes: f.classes,
        layer: factsAt,
        label: (c: Comparison) => f.label(c.subject),
      },
      {
        name: `candidate_${f.name}`,
        classes: f.classes,
        layer: factsAt,
        label: (c: Comparison) => f.label(c.candidate),
      },
    ]),
    ...MATCHES.map((m) => ({
      name: `match_${m.name}`,
      classes: 2,
      layer: matchAt,
      label: (c: Comparison) => {
        const a = m.agree(c.subject, c.candidate);
        return a === undefined ? undefined : Number(a);
      },
    })),
  ];
}

/**
 * decision_positions and one label tensor per probe: one row per sample that carries a comparison, at the
 * position predicting its answer's first token. A batch without any gets one unlabelled row (loss 0).
 */
export function decisionFeeds(
  probes: DecisionProbe[],
  samples: SkillSample[],
  batch: PretrainBatch,
): Record<string, HostTensor> {
  const labelPositions = batch.feeds['label_positions']!.data as BigInt64Array;
  const rows: { position: number; comparison: Comparison | null }[] = [];
  samples.forEach((s, b) => {
    const span = batch.labelSpans[b]!;
    if (s.compared && span.count)
      rows.push({ position: Number(labelPositions[span.start]), comparison: s.compared });
  });
  if (!rows.length) rows.push({ position: 0, comparison: null });
  const out: Record<string, HostTensor> = {
    decision_positions: i64(
      [rows.length],
      rows.map((r) => r.position),
    ),
  };
  for (const p of probes)
    out[`dprobe_${p.name}`] = i64(
      [rows.length],
      rows.map((r) => (r.comparison ? (p.label(r.comparison) ?? -100) : -100)),
    );
  return out;
}

/** Adds any missing decision-probe weight, [classes, hidden]. */
export function addDecisionProbeWeights(
  weights: WeightMap,
  probes: DecisionProbe[],
  hidden: number,
  rng: Rng,
): void {
  for (const p of probes) addProbeWeight(weights, `dprobe.${p.name}.weight`, p.classes, hidden, rng);
}

/** Per probe: the share of labelled rows whose top class is right, from the graph's dlogits_<name>. */
export function decisionAccuracy(
  probes: DecisionProbe[],
  feeds: Record<string, HostTensor>,
  outputs: Record<string, HostTensor>,
): Record<string, { right: number; n: number }> {
  const acc: Record<string, { right: number; n: number }> = {};
  for (const p of probes) {
    const labels = feeds[`dprobe_${p.name}`]!.data as BigInt64Array;
    const logits = outputs[`dlogits_${p.name}`]!.data as Float32Array;
    let right = 0;
    let n = 0;
    labels.forEach((l, r) => {
      if (l < 0n) return;
      n++;
      let best = 0;
      for (let k = 1; k < p.classes; k++)
        if (logits[r * p.classes + k]! > logits[r * p.classes + best]!) best = k;
      if (best === Number(l)) right++;
    });
    acc[p.name] = { right, n };
  }
  return acc;
}
