// Reverse-mode automatic differentiation over the expression graph. The backward pass is built from the
// same primitives as the forward one, so it serializes to ONNX like any other expression.
import { isFloat } from './dtype';
import { primitive } from './registry';
import { formatShape } from './shape';
import { zerosLike, type Tensor } from './tensor';

/** Every tensor that `roots` depend on, inputs before users. */
export function topologicalOrder(roots: readonly Tensor[]): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<number>();
  // Iterative post-order: deep graphs (hundreds of layers) would overflow a recursive walk.
  const stack: { t: Tensor; next: number }[] = [];
  for (const root of roots) {
    if (seen.has(root.id)) continue;
    seen.add(root.id);
    stack.push({ t: root, next: 0 });
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      if (top.next < top.t.inputs.length) {
        const child = top.t.inputs[top.next++]!;
        if (!seen.has(child.id)) {
          seen.add(child.id);
          stack.push({ t: child, next: 0 });
        }
      } else {
        order.push(top.t);
        stack.pop();
      }
    }
  }
  return order;
}

/**
 * `t` as its backward rule should see it: frozen inputs that can be computed again cheaply (a weight's
 * float32 cast) are, after the incoming gradient `g`, so that the forward pass's copy is freed after its
 * forward use instead of living until the backward pass reaches it. The view shares everything else with
 * `t` (its id included); only its inputs differ.
 */
function rematerialized(t: Tensor, g: Tensor, needs: boolean[]): Tensor {
  if (!t.inputs.some((x, k) => x.rematerialize && !needs[k])) return t;
  const inputs = t.inputs.map((x, k) => (x.rematerialize && !needs[k] ? x.rematerialize(g) : x));
  return Object.create(t, { inputs: { value: inputs } }) as Tensor;
}

/**
 * d loss / d w for each w in `wrt`. `loss` is usually a scalar; otherwise `seed` gives d(final)/d loss
 * (default: ones). Gradients that reach a tensor along several paths are summed; broadcast gradients are
 * reduced to the source's shape; integer tensors and stopGradient() pass nothing. A `wrt` tensor that the
 * loss does not depend on gets zeros.
 */
export function gradients(loss: Tensor, wrt: readonly Tensor[], seed?: Tensor): Tensor[] {
  if (!isFloat(loss.dtype)) throw new Error(`gradients: the loss must be a float tensor, got ${loss}`);
  for (const w of wrt) {
    if (w.graph !== loss.graph) throw new Error(`gradients: ${w} belongs to another graph than the loss`);
    if (!isFloat(w.dtype))
      throw new Error(`gradients: cannot differentiate with respect to ${w} (not float)`);
  }
  const order = topologicalOrder([loss]);
  const targets = new Set(wrt.map((w) => w.id));
  // Only tensors downstream of some wrt tensor need a gradient; this prunes frozen branches.
  const relevant = new Set<number>();
  for (const t of order) {
    if (targets.has(t.id) || (isFloat(t.dtype) && t.inputs.some((i) => relevant.has(i.id))))
      relevant.add(t.id);
  }

  const grads = new Map<number, Tensor>();
  grads.set(loss.id, seed ?? loss.graph.scalar(1, loss.dtype).expand(loss.shape));

  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i]!;
    const g = grads.get(t.id);
    if (!g || t.isLeaf || !relevant.has(t.id)) continue;
    const needs = t.inputs.map((x) => relevant.has(x.id) && isFloat(x.dtype));
    if (!needs.some(Boolean)) continue;
    const rule = primitive(t.op).backward;
    if (!rule)
      throw new Error(
        `gradients: ${t.op} has no backward rule, but ${t} lies between the loss and a wrt tensor`,
      );
    const inputGrads = rule(rematerialized(t, g, needs), g, needs);
    t.inputs.forEach((x, k) => {
      const gx = inputGrads[k];
      if (!needs[k] || !gx) return;
      checkShape(t.op, x, gx);
      const prev = grads.get(x.id);
      grads.set(x.id, prev ? prev.add(gx) : gx);
    });
  }
  return wrt.map((w) => grads.get(w.id) ?? zerosLike(w));
}

function checkShape(op: string, x: Tensor, gx: Tensor): void {
  const bad =
    gx.rank !== x.rank ||
    gx.shape.some((d, i) => typeof d === 'number' && typeof x.shape[i] === 'number' && d !== x.shape[i]);
  if (bad || gx.dtype !== x.dtype) {
    throw new Error(
      `gradients: the backward rule of ${op} gave ${gx.dtype} ${formatShape(gx.shape)} for an input of ${x.dtype} ${formatShape(x.shape)}`,
    );
  }
}
