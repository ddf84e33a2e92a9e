// The graph builder's public surface. Importing this module registers every primitive.
import './ops/elementwise';
import './ops/reduce';
import './ops/matmul';
import './ops/layout';
import './ops/slicing';
import './ops/indexing';

export { Graph, Tensor, apply, type Dim, type Operand } from './tensor';
export type { DType, TypedArray } from './dtype';
export { allocate, isFloat } from './dtype';
export { gradients, topologicalOrder } from './autodiff';
export { serialize, OPSET, type CompiledModel, type ValueSpec, type SerializeOptions } from './serialize';
export { primitiveNames } from './registry';
export { where, equal, less, greater } from './ops/elementwise';
export { concat, pad } from './ops/slicing';
export { range, scatterAdd, gatherND } from './ops/indexing';
export { transposeLast, matmulTransB } from './ops/matmul';
export { linear, layerNorm, rmsNorm, gelu, quickGelu, silu, geluTanh } from './composites/activations';
export { rotaryTables, applyRotary } from './composites/rotary';
export { attention, causalMask, splitHeads, mergeHeads } from './composites/attention';
export { maskedCrossEntropy, weightedCrossEntropy } from './composites/loss';
export { adamwUpdate, type AdamWScalars } from './composites/adamw';
