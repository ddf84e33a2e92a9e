// Frozen weights enter every graph as inputs fed from one host copy, so that all sessions of a model share
// a single copy of the weights in memory. A float16 weight is fed as it is and cast where the graph reads
// it, so the float32 copy exists only while its consumer runs.
import type { DType, Graph, Tensor } from '../../graph/index';
import { f16ToF32 } from '../../io/safetensors';
import type { HostTensor } from '../../runtime/host-tensor';
import type { WeightMap } from './weights';

export class WeightInputs {
  private readonly used = new Map<string, Tensor>();
  private anchorTensor: Tensor | null = null;

  /**
   * Weights first read after this call are cast only once `t` has been computed (see Tensor.after): call it
   * with a layer's input before reading the layer's weights, so that one layer's float32 copies are alive
   * at a time rather than the whole model's.
   */
  anchor(t: Tensor): void {
    this.anchorTensor = t;
  }

  constructor(
    readonly graph: Graph,
    private readonly weights: WeightMap,
    /** 'initializers' bakes the weights into the graph (one copy per session; MLAS can pre-pack them). */
    readonly mode: 'inputs' | 'initializers' = 'inputs',
    /** float64 only for gradient checks: every weight is fed as a widened copy, kept per host tensor. */
    readonly dtype: 'float32' | 'float64' = 'float32',
  ) {}

  /** The graph input for weight `name` (created on first use). */
  get(name: string, reshape?: number[]): Tensor {
    let t = this.used.get(name);
    if (!t) {
      const w = this.weights.get(name);
      if (!w) throw new Error(`weight "${name}" is not loaded`);
      const wide = this.dtype === 'float64';
      if (this.mode === 'initializers')
        t = this.graph.weight(name, wide ? widened(w).data : asFloat32(w).data, w.shape);
      else if (w.dtype === 'float16' && !wide)
        t = castAfter(this.graph.input(name, 'float16', w.shape), this.anchorTensor);
      else t = this.graph.input(name, this.dtype as DType, w.shape);
      this.used.set(name, t);
    }
    return reshape ? t.reshape(reshape) : t;
  }

  /** The weights this graph has read so far, in first-use order. */
  names(): string[] {
    return [...this.used.keys()];
  }

  has(name: string): boolean {
    return this.weights.has(name);
  }

  /** The weights this graph reads, ready to merge into a run's feeds. */
  feeds(): Record<string, HostTensor> {
    const out: Record<string, HostTensor> = {};
    if (this.mode === 'initializers') return out;
    for (const name of this.used.keys()) {
      const w = this.weights.get(name)!;
      out[name] = this.dtype === 'float64' ? widened(w) : w;
    }
    return out;
  }
}

/** A run-time axis of `t`, which constant folding cannot see through; -1 when every axis is static. */
function runtimeAxis(t: Tensor): number {
  return t.shape.findIndex((d) => typeof d !== 'number');
}

/** float16 → float32 once `anchor` exists; the backward pass casts again after its own gradient. */
function castAfter(half: Tensor, anchor: Tensor | null): Tensor {
  const cast = (a: Tensor | null): Tensor => {
    const axis = a ? runtimeAxis(a) : -1;
    return (a && axis >= 0 ? half.after(a, axis) : half).cast('float32');
  };
  const t = cast(anchor);
  t.rematerialize = (a) => cast(a);
  return t;
}

const wide = new WeakMap<HostTensor, HostTensor>();

function widened(t: HostTensor): HostTensor {
  let w = wide.get(t);
  if (!w) {
    w = { dtype: 'float64', shape: t.shape, data: Float64Array.from(asFloat32(t).data as Float32Array) };
    wide.set(t, w);
  }
  return w;
}

/** The weight as float32 (a converted copy of a float16 one). */
export function asFloat32(t: HostTensor): HostTensor {
  if (t.dtype === 'float32') return t;
  if (t.dtype !== 'float16') throw new Error(`weight of dtype ${t.dtype} where float32 is expected`);
  return { dtype: 'float32', shape: t.shape, data: f16ToF32(t.data as Uint16Array) };
}
