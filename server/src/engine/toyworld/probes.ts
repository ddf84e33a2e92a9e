// What each pretraining photo shows, as class labels for the linear probes on the image features (see
// models/llava/whole-model-graph.ts): a direct training signal for the vision tower. The mark's spot is
// an identity detail no caption names; probing it makes the features carry what tells look-alikes apart.
import { i64, type HostTensor } from '../runtime/host-tensor';
import type { WeightMap } from '../models/llava/weights';
import type { Rng } from '../util/rng';
import { positionWords, type SceneSpec } from './scenes';
import { ACCESSORIES, ACCESSORY_COLORS, COLOR_NAMES, KIND_NAMES, MARK_SPOTS, PATTERNS } from './world';

interface Probe {
  name: string;
  classes: number;
  /** The class of a scene, or −100 when it has none. */
  label: (s: SceneSpec) => number;
}

const POSITIONS = ['on the left', 'in the middle', 'on the right'];

export const PROBES: Probe[] = [
  { name: 'kind', classes: KIND_NAMES.length, label: (s) => KIND_NAMES.indexOf(s.main.object.kind) },
  { name: 'color', classes: COLOR_NAMES.length, label: (s) => COLOR_NAMES.indexOf(s.main.object.color) },
  { name: 'pattern', classes: PATTERNS.length, label: (s) => PATTERNS.indexOf(s.main.object.pattern) },
  {
    name: 'accessory',
    classes: ACCESSORIES.length,
    label: (s) => ACCESSORIES.indexOf(s.main.object.accessory),
  },
  {
    name: 'accessory_color',
    classes: ACCESSORY_COLORS.length,
    label: (s) =>
      s.main.object.accessory === 'none' ? -100 : ACCESSORY_COLORS.indexOf(s.main.object.accessoryColor),
  },
  { name: 'position', classes: 3, label: (s) => POSITIONS.indexOf(positionWords(s)) },
  { name: 'mark', classes: MARK_SPOTS.length, label: (s) => s.main.object.details.markSpot },
  { name: 'mark_tone', classes: 2, label: (s) => s.main.object.details.markTone },
  { name: 'distractors', classes: 3, label: (s) => s.distractors.length },
];

/** One int64 [images] label tensor per probe; `images` may exceed the scenes (a blank filler image). */
export function probeFeeds(scenes: SceneSpec[], images: number): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (const p of PROBES) {
    const labels = Array.from({ length: images }, (_, i) => (i < scenes.length ? p.label(scenes[i]!) : -100));
    out[`probe_${p.name}`] = i64([images], labels);
  }
  return out;
}

/** Adds any missing joint-stage probe weight, [classes, inputs] (inputs: tokens × text width). */
export function addProbeWeights(weights: WeightMap, inputs: number, rng: Rng): void {
  for (const p of PROBES) addProbeWeight(weights, `probe.${p.name}.weight`, p.classes, inputs, rng);
}

/**
 * A linear probe's weight [classes, inputs], N(0, 0.02), unless `weights` already holds it (a resumed run
 * keeps its trained probes). Probes are training scaffolding: pretraining never exports them.
 */
export function addProbeWeight(
  weights: WeightMap,
  name: string,
  classes: number,
  inputs: number,
  rng: Rng,
): void {
  if (weights.has(name)) return;
  const data = new Float32Array(classes * inputs);
  for (let i = 0; i < data.length; i++) data[i] = 0.02 * rng.normal();
  weights.set(name, { dtype: 'float32', shape: [classes, inputs], data });
}
