// What an emitter may do while serializing: name tensors and append ONNX nodes.
import type { NodeProto, TensorProto } from 'onnx-buf';
import type { DType, TypedArray } from './dtype';

export interface EmitContext {
  /** The value name of a tensor already emitted (or a graph input / initializer). */
  nameOf(id: number): string;
  /** A fresh value name for an intermediate that only this emitter uses. */
  fresh(hint: string): string;
  /** Appends a node; `attrs` are converted to ONNX attributes by their JS type. */
  node(opType: string, inputs: string[], outputs: string[], attrs?: Record<string, EmitAttr>): NodeProto;
  /** Adds a constant initializer and returns its name. */
  constant(hint: string, dtype: DType, dims: number[], values: number[] | TypedArray): string;
}

export type EmitAttr =
  | { int: number }
  | { ints: number[] }
  | { float: number }
  | { floats: number[] }
  | { string: string }
  | { tensor: TensorProto };
