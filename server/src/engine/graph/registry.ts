// The single table of primitive ops. Each primitive has a shape rule, one ONNX emitter and (when
// differentiable) one backward rule. Composite ops are written from primitives and need no entry here.
import type { DType } from './dtype';
import type { Dim, Tensor } from './tensor';
import type { EmitContext } from './emit-context';

export type AttrValue = number | number[] | string | boolean | undefined;
export type Attrs = Record<string, AttrValue>;

export interface InferredType {
  dtype: DType;
  shape: readonly Dim[];
}

export interface Primitive {
  /** Our op name; for most primitives the ONNX op type of the same name. */
  name: string;
  /** Output type from the input types; throws a readable error on mismatched shapes. */
  infer(inputs: readonly Tensor[], attrs: Attrs): InferredType;
  /** Writes the ONNX node(s) that compute `out` from its already-named inputs. */
  emit(ctx: EmitContext, out: Tensor, inputNames: string[]): void;
  /**
   * Gradients of the loss with respect to each input, given the gradient `grad` of the output.
   * Returns null for inputs that receive no gradient. Absent: the op is not differentiable.
   */
  backward?(out: Tensor, grad: Tensor, needs: readonly boolean[]): (Tensor | null)[];
}

const table = new Map<string, Primitive>();

export function definePrimitive(p: Primitive): Primitive {
  if (table.has(p.name)) throw new Error(`primitive "${p.name}" is defined twice`);
  table.set(p.name, p);
  return p;
}

export function primitive(name: string): Primitive {
  const p = table.get(name);
  if (!p) throw new Error(`unknown primitive "${name}" (was its module imported?)`);
  return p;
}

export function primitiveNames(): string[] {
  return [...table.keys()];
}
