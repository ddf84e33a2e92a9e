// Serializes the tensors reachable from named outputs to an ONNX ModelProto (standard domain, opset ≥ 18).
import { create, toBinary } from '@bufbuild/protobuf';
import {
  AttributeProto_AttributeType,
  AttributeProtoSchema,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  StringStringEntryProtoSchema,
  TensorProto_DataLocation,
  TensorProtoSchema,
  TensorShapeProto_DimensionSchema,
  TensorShapeProtoSchema,
  TypeProto_TensorSchema,
  TypeProtoSchema,
  ValueInfoProtoSchema,
  type AttributeProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from 'onnx-buf';
import { topologicalOrder } from './autodiff';
import { fromNumbers, ONNX_DTYPE, type DType, type TypedArray } from './dtype';
import type { EmitAttr, EmitContext } from './emit-context';
import { primitive } from './registry';
import type { Dim, Tensor } from './tensor';

export const OPSET = 18;
const IR_VERSION = 10n;

export interface ValueSpec {
  name: string;
  dtype: DType;
  shape: Dim[];
}

export interface CompiledModel {
  bytes: Uint8Array;
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  /** Weights kept out of the protobuf; pass to the session as `externalData`. */
  externalData: { path: string; data: Uint8Array }[];
  nodeCount: number;
}

export interface SerializeOptions {
  name?: string;
  /**
   * Weights of at least this many bytes are stored as external data (one in-memory blob) instead of inside
   * the protobuf, which is limited to 2 GiB. Default: 1 MiB.
   */
  externalThreshold?: number;
  /** Order of graph inputs; by default inputs appear in creation order. */
  inputOrder?: string[];
}

const EXTERNAL_FILE = 'weights.bin';

export function serialize(outputs: Record<string, Tensor>, opts: SerializeOptions = {}): CompiledModel {
  const entries = Object.entries(outputs);
  if (entries.length === 0) throw new Error('serialize: no outputs');
  const order = topologicalOrder(entries.map(([, t]) => t));
  const names = new Map<number, string>();
  const used = new Set<string>();
  const claim = (n: string): string => {
    if (used.has(n)) throw new Error(`serialize: value name "${n}" is used twice`);
    used.add(n);
    return n;
  };
  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  const inputs: Tensor[] = [];
  const external: Uint8Array[] = [];
  let externalOffset = 0;
  const threshold = opts.externalThreshold ?? 1 << 20;
  let fresh = 0;
  const constantCache = new Map<string, string>();

  const addInitializer = (name: string, dtype: DType, dims: readonly number[], data: TypedArray): void => {
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const proto = create(TensorProtoSchema, { name, dataType: ONNX_DTYPE[dtype], dims: dims.map(BigInt) });
    if (raw.byteLength >= threshold) {
      // External data offsets must be aligned for ORT's memory mapping; 64 bytes is safe everywhere.
      const pad = (64 - (externalOffset % 64)) % 64;
      if (pad) external.push(new Uint8Array(pad));
      externalOffset += pad;
      proto.dataLocation = TensorProto_DataLocation.EXTERNAL;
      proto.externalData = [
        create(StringStringEntryProtoSchema, { key: 'location', value: EXTERNAL_FILE }),
        create(StringStringEntryProtoSchema, { key: 'offset', value: String(externalOffset) }),
        create(StringStringEntryProtoSchema, { key: 'length', value: String(raw.byteLength) }),
      ];
      external.push(raw);
      externalOffset += raw.byteLength;
    } else {
      proto.rawData = raw.slice();
    }
    initializers.push(proto);
  };

  const ctx: EmitContext = {
    nameOf(id) {
      const n = names.get(id);
      if (n === undefined) throw new Error(`serialize: tensor #${id} used before it was emitted`);
      return n;
    },
    fresh: (hint) => claim(`${hint}_${fresh++}`),
    node(opType, ins, outs, attrs) {
      const node = create(NodeProtoSchema, {
        opType,
        input: ins,
        output: outs,
        name: `${opType}_${nodes.length}`,
      });
      if (attrs) node.attribute = Object.entries(attrs).map(([k, v]) => toAttribute(k, v));
      nodes.push(node);
      return node;
    },
    constant(hint, dtype, dims, values) {
      const data = ArrayBuffer.isView(values) ? values : fromNumbers(dtype, values);
      const key =
        data.length <= 16
          ? `${dtype}|${dims.join(',')}|${Array.from(data as ArrayLike<number | bigint>).join(',')}`
          : null;
      const hit = key && constantCache.get(key);
      if (hit) return hit;
      const name = claim(`${hint}_${fresh++}`);
      addInitializer(name, dtype, dims, data);
      if (key) constantCache.set(key, name);
      return name;
    },
  };

  // Outputs computed by a node take the output's name directly; leaves and repeats go through Identity.
  const outputAliases: [string, Tensor][] = [];
  for (const [name, t] of entries) {
    if (!t.isLeaf && !names.has(t.id)) names.set(t.id, claim(name));
    else outputAliases.push([name, t]);
  }

  for (const t of order) {
    if (t.op === 'Input') {
      names.set(t.id, claim(t.name!));
      inputs.push(t);
    } else if (t.op === 'Constant') {
      const name = claim(t.name ?? `const_${t.id}`);
      names.set(t.id, name);
      addInitializer(name, t.dtype, t.shape as number[], t.data!);
    } else {
      if (!names.has(t.id)) names.set(t.id, claim(`t${t.id}`));
      primitive(t.op).emit(
        ctx,
        t,
        t.inputs.map((i) => ctx.nameOf(i.id)),
      );
    }
  }
  for (const [name, t] of outputAliases) ctx.node('Identity', [ctx.nameOf(t.id)], [claim(name)]);

  if (opts.inputOrder) {
    const rank = new Map(opts.inputOrder.map((n, i) => [n, i]));
    inputs.sort((a, b) => (rank.get(a.name!) ?? 1e9) - (rank.get(b.name!) ?? 1e9));
  } else inputs.sort((a, b) => a.id - b.id);

  const inputSpecs = inputs.map((t) => ({ name: t.name!, dtype: t.dtype, shape: [...t.shape] }));
  const outputSpecs = entries.map(([name, t]) => ({ name, dtype: t.dtype, shape: [...t.shape] }));
  const graph = create(GraphProtoSchema, {
    name: opts.name ?? 'yollava',
    node: nodes,
    initializer: initializers,
    input: inputSpecs.map(valueInfo),
    output: outputSpecs.map(valueInfo),
  });
  const model = create(ModelProtoSchema, {
    irVersion: IR_VERSION,
    producerName: 'yollava',
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: BigInt(OPSET) })],
    graph,
  });
  return {
    bytes: toBinary(ModelProtoSchema, model),
    inputs: inputSpecs,
    outputs: outputSpecs,
    externalData: external.length
      ? [{ path: EXTERNAL_FILE, data: concatBytes(external, externalOffset) }]
      : [],
    nodeCount: nodes.length,
  };
}

function concatBytes(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

function valueInfo(spec: ValueSpec): ValueInfoProto {
  const dim = spec.shape.map((d) =>
    create(TensorShapeProto_DimensionSchema, {
      value: typeof d === 'number' ? { case: 'dimValue', value: BigInt(d) } : { case: 'dimParam', value: d },
    }),
  );
  return create(ValueInfoProtoSchema, {
    name: spec.name,
    type: create(TypeProtoSchema, {
      value: {
        case: 'tensorType',
        value: create(TypeProto_TensorSchema, {
          elemType: ONNX_DTYPE[spec.dtype],
          shape: create(TensorShapeProtoSchema, { dim }),
        }),
      },
    }),
  });
}

function toAttribute(name: string, v: EmitAttr): AttributeProto {
  const T = AttributeProto_AttributeType;
  if ('int' in v) return create(AttributeProtoSchema, { name, type: T.INT, i: BigInt(v.int) });
  if ('ints' in v)
    return create(AttributeProtoSchema, { name, type: T.INTS, ints: v.ints.map((x) => BigInt(x)) });
  if ('float' in v) return create(AttributeProtoSchema, { name, type: T.FLOAT, f: v.float });
  if ('floats' in v) return create(AttributeProtoSchema, { name, type: T.FLOATS, floats: v.floats });
  if ('string' in v)
    return create(AttributeProtoSchema, { name, type: T.STRING, s: new TextEncoder().encode(v.string) });
  return create(AttributeProtoSchema, { name, type: T.TENSOR, t: v.tensor });
}
