// Element types the graph builder knows, and how each maps to ONNX and to JS typed arrays.
import { TensorProto_DataType } from 'onnx-buf';

export type DType = 'float32' | 'float64' | 'float16' | 'int64' | 'int32' | 'bool';

export type TypedArray = Float32Array | Float64Array | Uint16Array | BigInt64Array | Int32Array | Uint8Array;

export const ONNX_DTYPE: Record<DType, TensorProto_DataType> = {
  float32: TensorProto_DataType.FLOAT,
  float64: TensorProto_DataType.DOUBLE,
  float16: TensorProto_DataType.FLOAT16,
  int64: TensorProto_DataType.INT64,
  int32: TensorProto_DataType.INT32,
  bool: TensorProto_DataType.BOOL,
};

export function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'float16';
}

/** A typed array of `length` zeros of the JS type that holds `dtype`. */
export function allocate(dtype: DType, length: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(length);
    case 'float64':
      return new Float64Array(length);
    case 'float16':
      return new Uint16Array(length);
    case 'int64':
      return new BigInt64Array(length);
    case 'int32':
      return new Int32Array(length);
    case 'bool':
      return new Uint8Array(length);
  }
}

/** Fills a typed array of `dtype` from plain numbers (bigint for int64 is produced here). */
export function fromNumbers(dtype: DType, values: ArrayLike<number>): TypedArray {
  const out = allocate(dtype, values.length);
  if (dtype === 'int64') {
    const o = out as BigInt64Array;
    for (let i = 0; i < values.length; i++) o[i] = BigInt(Math.trunc(values[i]!));
  } else if (dtype === 'float16') {
    throw new Error('fromNumbers: float16 constants are not supported; build them in float32 and Cast');
  } else {
    const o = out as Float32Array;
    for (let i = 0; i < values.length; i++) o[i] = values[i]!;
  }
  return out;
}
