// Packs training samples into one padded personalization step (LlavaModel.conceptStep): embeddings of the
// vocabulary and image features on the host, the concept's rows by index so that the graph places them and
// sums their gradients itself, right padding masked out, and each sample's answer weighted to count once.
import { labelTargets } from '../models/llava/embeddings';
import type { ConceptBatch, LlavaModel } from '../models/llava/model';
import type { Sample } from './prompts';

export interface BatchItem {
  sample: Sample;
  /** Projector features of the sample's image ([N, D] each); none for text-only samples. */
  features: readonly Float32Array[];
}

/**
 * `items` as one batch of B = items.length rows padded to the longest. Label weights are 1/(the sample's
 * label count), so the step's loss is the mean of the samples' own mean losses: B × its gradient equals the
 * sum of the gradients of the samples taken one at a time.
 */
export function packConceptBatch(
  model: LlavaModel,
  items: readonly BatchItem[],
  conceptRows: Float32Array | Float64Array,
  extraHead: Float32Array | Float64Array,
): ConceptBatch {
  const D = model.hidden;
  const V = model.vocab;
  const B = items.length;
  const T = Math.max(...items.map((it) => it.sample.ids.length));
  const E = conceptRows.length / D;
  const zeros = new Float32Array(conceptRows.length);
  const embeds = new Float32Array(B * T * D);
  const rowIndex = new Int32Array(B * T).fill(-1);
  const keyMask = new Int32Array(B * T);
  const labelPositions: number[] = [];
  const labelIds: number[] = [];
  const labelWeights: number[] = [];
  items.forEach((it, b) => {
    const ids = it.sample.ids;
    // Concept positions stay zero here: the graph adds their rows.
    embeds.set(model.embed(ids, it.features, zeros), b * T * D);
    ids.forEach((id, t) => {
      keyMask[b * T + t] = 1;
      if (id >= V) {
        if (id - V >= E) throw new Error(`token id ${id} is beyond the concept's ${E} rows`);
        rowIndex[b * T + t] = id - V;
      }
    });
    const targets = labelTargets(it.sample.labels, b * T);
    const w = targets.ids.length ? 1 / targets.ids.length : 0;
    labelPositions.push(...targets.positions);
    labelIds.push(...targets.ids);
    for (let i = 0; i < targets.ids.length; i++) labelWeights.push(w);
  });
  return {
    embeds,
    batch: B,
    seq: T,
    rowIndex,
    conceptRows,
    extraHead,
    keyMask,
    labelPositions,
    labelIds,
    labelWeights,
  };
}
