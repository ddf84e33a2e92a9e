// The language model as graphs over inputs_embeds: logits at chosen positions, the training loss with its
// gradients, and KV-cache decoding. Embedding lookup happens on the host (see embeddings.ts), so image
// features and learned concept rows enter the same way as vocabulary rows.
import {
  adamwUpdate,
  causalMask,
  concat,
  equal,
  gradients,
  linear,
  maskedCrossEntropy,
  range,
  rmsNorm,
  weightedCrossEntropy,
  where,
  type Dim,
  type DType,
  type Graph,
  type Tensor,
} from '../../graph/index';
import {
  decoderLayer,
  layerRope,
  type DecoderLayerWeights,
  type DecoderShape,
  type LayerCache,
} from './llama-decoder';
import type { LlavaConfig } from './config';
import type { WeightInputs } from './weight-inputs';

export function decoderShape(c: LlavaConfig): DecoderShape {
  const t = c.text;
  return {
    hidden: t.hidden,
    heads: t.heads,
    kvHeads: t.kvHeads,
    headDim: t.headDim,
    intermediate: t.intermediate,
    rmsEps: t.rmsEps,
    ropeTheta: t.ropeTheta,
  };
}

function layerWeights(w: WeightInputs, l: number, c: LlavaConfig): DecoderLayerWeights {
  const p = `lm.layers.${l}.`;
  const bias = (m: string): Tensor | undefined =>
    c.text.qkvBias ? w.get(`${p}self_attn.${m}.bias`) : undefined;
  return {
    inputNorm: w.get(`${p}input_layernorm.weight`),
    q: w.get(`${p}self_attn.q_proj.weight`),
    k: w.get(`${p}self_attn.k_proj.weight`),
    v: w.get(`${p}self_attn.v_proj.weight`),
    o: w.get(`${p}self_attn.o_proj.weight`),
    qBias: bias('q_proj'),
    kBias: bias('k_proj'),
    vBias: bias('v_proj'),
    postNorm: w.get(`${p}post_attention_layernorm.weight`),
    gate: w.get(`${p}mlp.gate_proj.weight`),
    up: w.get(`${p}mlp.up_proj.weight`),
    down: w.get(`${p}mlp.down_proj.weight`),
  };
}

export interface DecoderRun {
  hidden: Tensor;
  /** Per layer: keys and values over past + new positions. */
  presents: LayerCache[];
  /** Per layer: its output, the residual stream before the final norm (for probes on what a layer holds). */
  layerOutputs: Tensor[];
}

/**
 * Runs the decoder over `embeds` [B, T, D] that follow `past` cached positions (none: a fresh sequence).
 * `keyMask` [B, S] int64 (1 = attend, 0 = padding) over all S = past + T keys is optional.
 */
export function runDecoder(
  embeds: Tensor,
  c: LlavaConfig,
  w: WeightInputs,
  past?: LayerCache[],
  keyMask?: Tensor,
): DecoderRun {
  const g = embeds.graph;
  const s = decoderShape(c);
  const T = embeds.shape[1] as Dim;
  const pastLen: Dim = past ? (past[0]!.k.shape[2] as Dim) : 0;
  const pastScalar = past ? g.dimTensor(pastLen).reshape([]) : g.scalar(0, 'int64');
  const Tscalar = g.dimTensor(T).reshape([]);
  const positions = range(pastScalar, pastScalar.add(Tscalar), T);
  const rope = layerRope(positions, s);
  const S = past ? pastScalar.add(Tscalar) : T;
  let mask = causalMask(embeds, T, S, past ? g.dimTensor(pastLen) : 0);
  if (keyMask) {
    const pad = where(
      equal(keyMask, g.scalar(0, 'int64')),
      g.scalar(-1e30, embeds.dtype),
      g.scalar(0, embeds.dtype),
    );
    mask = mask.add(pad.unsqueeze([1, 2])); // [B, 1, T, S]
  }
  let h = embeds;
  const presents: LayerCache[] = [];
  const layerOutputs: Tensor[] = [];
  for (let l = 0; l < c.text.layers; l++) {
    w.anchor(h);
    const r = decoderLayer(h, layerWeights(w, l, c), s, rope, mask, past?.[l]);
    h = r.out;
    presents.push({ k: r.k, v: r.v });
    layerOutputs.push(h);
  }
  w.anchor(h);
  return { hidden: rmsNorm(h, w.get('lm.norm.weight'), s.rmsEps), presents, layerOutputs };
}

/** Hidden rows at flat positions (indices into B·T) → [P, D]. */
export function gatherRows(hidden: Tensor, flatPositions: Tensor): Tensor {
  const D = hidden.shape[2] as number;
  return hidden.reshape([-1, D]).gather(flatPositions, 0);
}

/** Logits over the vocabulary followed by `extraHead` rows ([E, D], new tokens), for rows [P, D]. */
export function headLogits(rows: Tensor, w: WeightInputs, extraHead?: Tensor, lmHead?: Tensor): Tensor {
  const head = lmHead ?? w.get('lm_head.weight');
  const full = extraHead ? concat([head, extraHead], 0) : head;
  return linear(rows, full);
}

export interface TrainGraphOptions {
  /** Also output d loss / d lm_head (the whole vocabulary head), e.g. for checks against reference gradients. */
  lmHeadGradient?: boolean;
}

/**
 * Inputs: inputs_embeds [B, T, D]; label_positions int64 [P] (flat index b·T + t of the position whose
 * logits predict a label); label_ids int64 [P] (−100 ignored); extra_head [E, D]; key_mask int64 [B, T].
 * Outputs: loss, grad_inputs_embeds, grad_extra_head (and grad_lm_head when asked).
 */
export function buildTrainGraph(
  g: Graph,
  c: LlavaConfig,
  w: WeightInputs,
  opts: TrainGraphOptions = {},
): Record<string, Tensor> {
  const D = c.text.hidden;
  const embeds = g.input('inputs_embeds', 'float32', ['batch', 'seq', D]);
  const positions = g.input('label_positions', 'int64', ['labels']);
  const ids = g.input('label_ids', 'int64', ['labels']);
  const extra = g.input('extra_head', 'float32', ['extra', D]);
  const keyMask = g.input('key_mask', 'int64', ['batch', 'seq']);
  const { hidden } = runDecoder(embeds, c, w, undefined, keyMask);
  const lmHead = w.get('lm_head.weight');
  const logits = headLogits(gatherRows(hidden, positions), w, extra, lmHead);
  const loss = maskedCrossEntropy(logits, ids);
  const wrt = opts.lmHeadGradient ? [embeds, extra, lmHead] : [embeds, extra];
  const grads = gradients(loss, wrt);
  const out: Record<string, Tensor> = { loss, grad_inputs_embeds: grads[0]!, grad_extra_head: grads[1]! };
  if (opts.lmHeadGradient) out['grad_lm_head'] = grads[2]!;
  return out;
}

/**
 * The personalization step: B padded samples in one run, the concept's rows placed inside the graph.
 * Inputs: inputs_embeds [B, T, D] (vocabulary rows and image features; zeros where a concept token
 * stands); row_index int64 [B, T] (the concept row at each position, −1 elsewhere); concept_rows [E, D];
 * extra_head [E, D]; key_mask int64 [B, T]; label_positions, label_ids int64 [P]; label_weights [P].
 * The loss is Σ w·CE / Σ w: with each sample's labels weighted 1/(its label count), it is the mean of the
 * per-sample losses, so B × its gradient is the sum of the per-sample gradients.
 * Outputs: loss, grad_concept_rows [E, D], grad_extra_head [E, D]. The rows are placed as a one-hot MatMul,
 * so the gradient arrives already summed per row: nothing is scattered on the host.
 */
export function buildConceptTrainGraph(
  g: Graph,
  c: LlavaConfig,
  w: WeightInputs,
  dtype: DType = 'float32',
  opts: { optimizer?: { beta1: number; beta2: number; eps: number } } = {},
): Record<string, Tensor> {
  const D = c.text.hidden;
  const base = g.input('inputs_embeds', dtype, ['batch', 'seq', D]);
  const rowIndex = g.input('row_index', 'int64', ['batch', 'seq']);
  const rows = g.input('concept_rows', dtype, ['rows', D]);
  const extra = g.input('extra_head', dtype, ['rows', D]);
  const keyMask = g.input('key_mask', 'int64', ['batch', 'seq']);
  const positions = g.input('label_positions', 'int64', ['labels']);
  const ids = g.input('label_ids', 'int64', ['labels']);
  const weights = g.input('label_weights', dtype, ['labels']);
  const rowCount = g.dimTensor(rows.shape[0]!).reshape([]);
  const rowIds = range(g.scalar(0, 'int64'), rowCount, rows.shape[0]!);
  const oneHot = equal(rowIndex.unsqueeze(-1), rowIds).cast(dtype); // [B, T, E]
  const embeds = base.add(oneHot.matmul(rows));
  const { hidden } = runDecoder(embeds, c, w, undefined, keyMask);
  const logits = headLogits(gatherRows(hidden, positions), w, extra);
  const loss = weightedCrossEntropy(logits, ids, weights);
  const [gRows, gHead] = gradients(loss, [rows, extra]);
  const out: Record<string, Tensor> = { loss, grad_concept_rows: gRows!, grad_extra_head: gHead! };
  if (opts.optimizer) {
    // The AdamW step in the same run: inputs m_/v_ of both row sets and the step's scalars; outputs the
    // updated rows and moments as new_*.
    const scalar = (name: string): Tensor => g.input(name, dtype, []);
    const s = {
      decay: scalar('adam_decay'),
      stepSize: scalar('adam_step_size'),
      invSqrtC2: scalar('adam_inv_sqrt_c2'),
    };
    for (const [name, p, grad] of [
      ['concept_rows', rows, gRows!],
      ['extra_head', extra, gHead!],
    ] as const) {
      const m = g.input(`m_${name}`, dtype, ['rows', D]);
      const v = g.input(`v_${name}`, dtype, ['rows', D]);
      const u = adamwUpdate(p, grad, m, v, s, opts.optimizer);
      out[`new_${name}`] = u.p;
      out[`new_m_${name}`] = u.m;
      out[`new_v_${name}`] = u.v;
    }
  }
  return out;
}

/**
 * Inputs: inputs_embeds [B, T, D]; logit_positions int64 [P]; extra_head [E, D]; key_mask int64 [B, T].
 * Output: logits [P, V + E].
 */
export function buildForwardGraph(g: Graph, c: LlavaConfig, w: WeightInputs): Record<string, Tensor> {
  const D = c.text.hidden;
  const embeds = g.input('inputs_embeds', 'float32', ['batch', 'seq', D]);
  const positions = g.input('logit_positions', 'int64', ['positions']);
  const extra = g.input('extra_head', 'float32', ['extra', D]);
  const keyMask = g.input('key_mask', 'int64', ['batch', 'seq']);
  const { hidden } = runDecoder(embeds, c, w, undefined, keyMask);
  return { logits: headLogits(gatherRows(hidden, positions), w, extra) };
}

/**
 * One decoding step over new embeddings [B, T, D] after `past` positions held in past_k_l / past_v_l
 * [B, Hkv, past, hd]. Outputs the logits of the last new position [B, V + E] and present_k_l / present_v_l.
 */
export function buildDecodeGraph(g: Graph, c: LlavaConfig, w: WeightInputs): Record<string, Tensor> {
  const t = c.text;
  const embeds = g.input('inputs_embeds', 'float32', ['batch', 'seq', t.hidden]);
  const extra = g.input('extra_head', 'float32', ['extra', t.hidden]);
  const past: LayerCache[] = [];
  for (let l = 0; l < t.layers; l++) {
    past.push({
      k: g.input(`past_k_${l}`, 'float32', ['batch', t.kvHeads, 'past', t.headDim]),
      v: g.input(`past_v_${l}`, 'float32', ['batch', t.kvHeads, 'past', t.headDim]),
    });
  }
  const { hidden, presents } = runDecoder(embeds, c, w, past);
  const last = hidden.slice(1, -1).squeeze(1);
  const out: Record<string, Tensor> = { logits: headLogits(last, w, extra) };
  presents.forEach((p, l) => {
    out[`present_k_${l}`] = p.k;
    out[`present_v_${l}`] = p.v;
  });
  return out;
}
