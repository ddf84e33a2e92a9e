// Plain tensors on the host: what the engine passes between sessions, files and the optimizer.
import type { DType, TypedArray } from '../graph/dtype';
import { allocate } from '../graph/dtype';

export interface HostTensor {
  dtype: DType;
  shape: number[];
  data: TypedArray;
}

export function hostTensor(dtype: DType, shape: readonly number[], data?: TypedArray): HostTensor {
  const size = shape.reduce((p, d) => p * d, 1);
  const d = data ?? allocate(dtype, size);
  if (d.length !== size)
    throw new Error(`hostTensor: ${d.length} values for shape [${shape.join(', ')}] (${size})`);
  return { dtype, shape: [...shape], data: d };
}

export function f32(shape: readonly number[], data?: ArrayLike<number>): HostTensor {
  return hostTensor('float32', shape, data ? Float32Array.from(data) : undefined);
}

export function f64(shape: readonly number[], data?: ArrayLike<number>): HostTensor {
  return hostTensor('float64', shape, data ? Float64Array.from(data) : undefined);
}

export function i64(shape: readonly number[], data: ArrayLike<number>): HostTensor {
  return hostTensor('int64', shape, BigInt64Array.from(Array.from(data, (v) => BigInt(v))));
}
