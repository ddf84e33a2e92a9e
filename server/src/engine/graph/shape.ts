// Shape arithmetic over dims that are numbers (static) or names (symbolic, known only at run time).
import type { Dim } from './tensor';

/** A dim that shape inference could not name; `apply` replaces it with a fresh symbol. */
export const UNKNOWN = '?';

export function formatShape(shape: readonly Dim[]): string {
  return `[${shape.join(', ')}]`;
}

export function normalizeAxis(axis: number, rank: number, what = 'axis'): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`${what} ${axis} is out of range for rank ${rank}`);
  return a;
}

/** Numpy-style broadcast of two shapes. Two different symbols are assumed equal at run time. */
export function broadcastShapes(a: readonly Dim[], b: readonly Dim[], op: string): Dim[] {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da === db) out.push(da);
    else if (da === 1) out.push(db);
    else if (db === 1) out.push(da);
    else if (typeof da === 'number' && typeof db === 'number') {
      throw new Error(
        `${op}: shapes ${formatShape(a)} and ${formatShape(b)} do not broadcast (axis ${i}: ${da} vs ${db})`,
      );
    } else out.push(typeof da === 'number' ? da : db);
  }
  return out;
}

/** Product of the dims, or null when any is symbolic. */
export function staticSize(shape: readonly Dim[]): number | null {
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number') return null;
    n *= d;
  }
  return n;
}

/**
 * The axes along which a gradient of shape `grad` must be summed to give one of shape `target`
 * (the source of a broadcast): leading extra axes, and axes where the target has 1 and the gradient does not.
 */
export function broadcastAxes(
  grad: readonly Dim[],
  target: readonly Dim[],
): { lead: number; keep: number[] } {
  const lead = grad.length - target.length;
  if (lead < 0)
    throw new Error(
      `broadcast gradient of rank ${grad.length} is smaller than its source's ${target.length}`,
    );
  const keep: number[] = [];
  for (let i = 0; i < target.length; i++) if (target[i] === 1 && grad[lead + i] !== 1) keep.push(lead + i);
  return { lead, keep };
}
