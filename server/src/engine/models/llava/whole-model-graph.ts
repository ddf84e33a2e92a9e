// The whole LLaVA as one graph, for pretraining: pixels through the vision tower and projector, token
// lookup inside the graph, the decoder, and next-token cross-entropy, differentiated with respect to every
// weight. Personalization never needs this (its graphs keep the model frozen); pretraining does.
//
// Token lookup is one Gather over a table stacked from three sources, so that image features, vocabulary
// rows and per-sample rows of made-up names enter the sequence the same way and all receive gradients:
//   rows 0…V-1           embed_tokens
//   rows V…V+R-1         extra_rows (fed, e.g. fresh random names; no gradient is asked for them)
//   rows V+R…            image features, image i's token n at V + R + i·N + n
import {
  concat,
  gradients,
  linear,
  maskedCrossEntropy,
  weightedCrossEntropy,
  type Graph,
  type Tensor,
} from '../../graph/index';
import type { LlavaConfig } from './config';
import { gatherRows, runDecoder } from './language-model';
import { visionTower } from './vision-tower';
import type { WeightInputs } from './weight-inputs';

export interface WholeModelGraphOptions {
  /** 'train': loss and a gradient per weight; 'eval': loss and the logits at the label positions. */
  mode: 'train' | 'eval';
  /**
   * Weight of a penalty on the part of the projected image features that is the same for every image of
   * the batch (the square of their mean over images). The decoder's RMSNorm makes its loss blind to the
   * features' scale, and early in training, when the language model cannot use them yet, the cheapest way
   * to lower the loss is to make them constant. Measured: without any penalty their scale grew 1 → 85 in
   * 1,600 steps, mostly as a constant; with a penalty on the whole mean square the image-dependent part
   * went to 0. Penalizing only the shared part holds the scale and leaves the image-dependent part free
   * (default 0: none).
   */
  featurePenalty?: number;
  /**
   * Linear probes on the projected image features (an image's tokens flattened) that keep predicting what
   * the scene shows while the language model learns to read them: without them the joint objective made the
   * features' image-dependent part shrink (rms 0.85 → 0.11) and every yes/no skill stayed at chance. Labels
   * from input `probe_<name>` (int64 [images], −100: none), weight `probe.<name>.weight` [classes, N·D];
   * their cross-entropy times `probeWeight` joins the objective. Training scaffolding, never exported.
   */
  probes?: { name: string; classes: number }[];
  probeWeight?: number;
  /**
   * Linear probes on the residual stream after decoder layer `layer` (0-based), at the positions that
   * decide a two-way answer: what the prompt says its subject is, what the photo shows, whether the two
   * agree. A yes/no comparison needs both facts routed to one position before anything can compare them,
   * and the answer alone gives no first-order signal for that routing; these make it. Labels from input
   * `dprobe_<name>` int64 [decisions] (−100: none) at `decision_positions` int64 [decisions] (flat b·seq + t),
   * weight `dprobe.<name>.weight` [classes, D]; cross-entropy times `decisionProbeWeight`. Training
   * scaffolding, never exported.
   */
  decisionProbes?: { name: string; classes: number; layer: number }[];
  decisionProbeWeight?: number;
}

/**
 * Inputs: pixel_values [images, C, H, W]; table_index int64 [batch, seq] (rows of the stacked table);
 * extra_rows [rows, D]; key_mask int64 [batch, seq]; label_positions int64 [labels] (flat b·seq + t of the
 * position predicting each label); label_ids int64 [labels].
 * Outputs: loss, and grad_<weight> for every weight the graph reads (train) or logits [labels, V] (eval).
 */
export function buildWholeModelGraph(
  g: Graph,
  c: LlavaConfig,
  w: WeightInputs,
  opts: WholeModelGraphOptions,
): Record<string, Tensor> {
  const v = c.vision;
  const D = c.text.hidden;
  const pixels = g.input('pixel_values', 'float32', ['images', v.channels, v.imageSize, v.imageSize]);
  const index = g.input('table_index', 'int64', ['batch', 'seq']);
  const extra = g.input('extra_rows', 'float32', ['rows', D]);
  const keyMask = g.input('key_mask', 'int64', ['batch', 'seq']);
  const positions = g.input('label_positions', 'int64', ['labels']);
  const ids = g.input('label_ids', 'int64', ['labels']);
  // Per-label weights: each sample's answer counts once whatever its length, and a two-way answer's
  // deciding first token counts most (see pretrain-batch.ts).
  const labelWeights = g.input('label_weights', 'float32', ['labels']);
  const { features } = visionTower(pixels, c, w);
  const table = concat([w.get('lm.embed_tokens.weight'), extra, features.reshape([-1, D])], 0);
  const embeds = table.gather(index, 0);
  const { hidden, layerOutputs } = runDecoder(embeds, c, w, undefined, keyMask);
  const logits = linear(gatherRows(hidden, positions), w.get('lm_head.weight'));
  const loss = weightedCrossEntropy(logits, ids, labelWeights);
  if (opts.mode === 'eval') return { loss, logits };
  const featureMeanSquare = features.mul(features).mean([0, 1, 2]);
  const shared = features.mean(0);
  const sharedMeanSquare = shared.mul(shared).mean([0, 1]);
  let objective = opts.featurePenalty ? loss.add(sharedMeanSquare.mul(opts.featurePenalty)) : loss;
  let probeLoss: Tensor | null = null;
  if (opts.probes?.length) {
    const flat = features.reshape([-1, c.imageTokens * D]);
    for (const p of opts.probes) {
      const labels = g.input(`probe_${p.name}`, 'int64', ['images']);
      const ce = maskedCrossEntropy(linear(flat, w.get(`probe.${p.name}.weight`)), labels);
      probeLoss = probeLoss ? probeLoss.add(ce) : ce;
    }
    objective = objective.add(probeLoss!.mul(opts.probeWeight ?? 0.1));
  }
  let decisionLoss: Tensor | null = null;
  const decisionLogits: Record<string, Tensor> = {};
  if (opts.decisionProbes?.length) {
    const at = g.input('decision_positions', 'int64', ['decisions']);
    for (const p of opts.decisionProbes) {
      const stream = layerOutputs[p.layer];
      if (!stream) throw new Error(`decision probe ${p.name}: no decoder layer ${p.layer}`);
      const labels = g.input(`dprobe_${p.name}`, 'int64', ['decisions']);
      const logits = linear(gatherRows(stream, at), w.get(`dprobe.${p.name}.weight`));
      const ce = maskedCrossEntropy(logits, labels);
      decisionLoss = decisionLoss ? decisionLoss.add(ce) : ce;
      decisionLogits[`dlogits_${p.name}`] = logits.stopGradient();
    }
    objective = objective.add(decisionLoss!.mul(opts.decisionProbeWeight ?? 0.1));
  }
  const names = w.names();
  const grads = gradients(
    objective,
    names.map((n) => w.get(n)),
  );
  const out: Record<string, Tensor> = {
    loss,
    feature_rms: featureMeanSquare.sqrt(),
    // What varies from image to image: if this falls to 0, the model has stopped looking.
    feature_spread: featureMeanSquare.sub(sharedMeanSquare).sqrt(),
  };
  if (probeLoss) out['probe_loss'] = probeLoss;
  if (decisionLoss) Object.assign(out, { decision_probe_loss: decisionLoss, ...decisionLogits });
  names.forEach((n, i) => {
    const gr = grads[i];
    if (!gr) throw new Error(`whole-model graph: weight "${n}" gets no gradient`);
    out[`grad_${n}`] = gr;
  });
  return out;
}

/**
 * The vision tower alone, trained through linear probes on its output (the hidden states the projector
 * reads, all tokens of an image flattened): the stage that stands in for CLIP's own pretraining. Inputs:
 * pixel_values and probe_<name> int64 [images] (−100: none); weights vprobe.<name>.weight
 * [classes, tokens·vision hidden]. Outputs: loss (the probes' summed cross-entropy), accuracy_<name>
 * (share of labelled images whose top class is right) and grad_<weight> for every weight it reads.
 */
export function buildVisionProbeGraph(
  g: Graph,
  c: LlavaConfig,
  w: WeightInputs,
  probes: { name: string; classes: number }[],
): Record<string, Tensor> {
  const v = c.vision;
  const pixels = g.input('pixel_values', 'float32', ['images', v.channels, v.imageSize, v.imageSize]);
  const { selected } = visionTower(pixels, c, w);
  const flat = selected.reshape([-1, c.imageTokens * v.hidden * c.featureLayers.length]);
  let loss: Tensor | null = null;
  const out: Record<string, Tensor> = {};
  for (const p of probes) {
    const labels = g.input(`probe_${p.name}`, 'int64', ['images']);
    const logits = linear(flat, w.get(`vprobe.${p.name}.weight`));
    const ce = maskedCrossEntropy(logits, labels);
    loss = loss ? loss.add(ce) : ce;
    out[`logits_${p.name}`] = logits.stopGradient();
  }
  const names = w.names().filter((n) => !n.startsWith('projector.'));
  const grads = gradients(
    loss!,
    names.map((n) => w.get(n)),
  );
  out['loss'] = loss!;
  names.forEach((n, i) => (out[`grad_${n}`] = grads[i]!));
  return out;
}
