// safetensors: round trips in every supported dtype, shards, and malformed files that must fail cleanly.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  bf16ToF32,
  encodeSafetensors,
  f16ToF32,
  f32ToBf16,
  f32ToF16,
  SafetensorsCheckpoint,
  SafetensorsError,
  SafetensorsFile,
  writeSafetensors,
} from '../../server/src/engine/io/safetensors';
import { Rng } from '../helpers/rng';

const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'yollava-st-'));

function sample(): Parameters<typeof encodeSafetensors>[0] {
  return {
    'a.weight': { dtype: 'F32', shape: [2, 3], data: new Float32Array([1, -2, 3.5, 0, 1e-3, -7]) },
    'b.half': { dtype: 'F16', shape: [3], data: f32ToF16(new Float32Array([0.5, -1.25, 1000])) },
    'c.bf': { dtype: 'BF16', shape: [2], data: f32ToBf16(new Float32Array([3.140625, -0.0078125])) },
    ids: { dtype: 'I64', shape: [4], data: new BigInt64Array([1n, -100n, 32000n, 0n]) },
    scalar: { dtype: 'F32', shape: [], data: new Float32Array([5.25]) },
  };
}

describe('safetensors round trip', () => {
  it('writes and reads F32, F16, BF16, I64 and 0-d tensors, with metadata', () => {
    const file = path.join(tmp(), 'model.safetensors');
    writeSafetensors(file, sample(), { format: 'pt' });
    const f = SafetensorsFile.open(file);
    assert.deepEqual(f.metadata, { format: 'pt' });
    assert.deepEqual(f.names().sort(), ['a.weight', 'b.half', 'c.bf', 'ids', 'scalar']);
    assert.deepEqual(Array.from(f.readFloat32('a.weight')), [1, -2, 3.5, 0, Math.fround(1e-3), -7]);
    assert.deepEqual(Array.from(f.readFloat32('b.half')), [0.5, -1.25, 1000]);
    assert.deepEqual(Array.from(f.readFloat32('c.bf')), [3.140625, -0.0078125]);
    assert.deepEqual(Array.from(f.read('ids').data as BigInt64Array), [1n, -100n, 32000n, 0n]);
    assert.deepEqual(f.read('scalar').shape, []);
    assert.equal(f.readFloat32('scalar')[0], 5.25);
    // The header is padded so that tensor data starts 8-byte aligned.
    const headerLen = Number(readFileSync(file).readBigUInt64LE(0));
    assert.equal((8 + headerLen) % 8, 0);
    f.close();
  });

  it('converts half precision like torch: subnormals, rounding, infinities', () => {
    const xs = new Float32Array([1, 65504, 70000, 6e-8, -0, 1 + 2 ** -11, 1 + 3 * 2 ** -11]);
    assert.deepEqual(Array.from(f16ToF32(f32ToF16(xs))), [
      1,
      65504,
      Infinity,
      5.960464477539063e-8,
      -0,
      1,
      1 + 2 ** -9,
    ]);
    // bf16 keeps 8 mantissa bits, ties to even
    assert.deepEqual(Array.from(bf16ToF32(f32ToBf16(new Float32Array([1 + 2 ** -8, 1 + 3 * 2 ** -8])))), [
      1,
      1 + 2 ** -6,
    ]);
  });

  it('reads sharded checkpoints through model.safetensors.index.json', () => {
    const dir = tmp();
    const s = sample();
    writeSafetensors(path.join(dir, 'model-00001-of-00002.safetensors'), {
      'a.weight': s['a.weight']!,
      ids: s['ids']!,
    });
    writeSafetensors(path.join(dir, 'model-00002-of-00002.safetensors'), { 'b.half': s['b.half']! });
    writeFileSync(
      path.join(dir, 'model.safetensors.index.json'),
      JSON.stringify({
        metadata: { total_size: 0 },
        weight_map: {
          'a.weight': 'model-00001-of-00002.safetensors',
          ids: 'model-00001-of-00002.safetensors',
          'b.half': 'model-00002-of-00002.safetensors',
        },
      }),
    );
    const ck = SafetensorsCheckpoint.open(dir);
    assert.deepEqual(ck.names().sort(), ['a.weight', 'b.half', 'ids']);
    assert.deepEqual(Array.from(ck.readFloat32('b.half')), [0.5, -1.25, 1000]);
    assert.equal(ck.info('ids').file.endsWith('00001-of-00002.safetensors'), true);
    ck.close();
  });

  it('reports a missing checkpoint and a bad index with the file name', () => {
    const dir = tmp();
    assert.throws(
      () => SafetensorsCheckpoint.open(dir),
      /no model\.safetensors or model\.safetensors\.index\.json/,
    );
    writeFileSync(
      path.join(dir, 'model.safetensors.index.json'),
      '{"weight_map": {"x": "../evil.safetensors"}}',
    );
    assert.throws(() => SafetensorsCheckpoint.open(dir), /must be a file name inside the folder/);
    writeFileSync(
      path.join(dir, 'model.safetensors.index.json'),
      '{"weight_map": {"x": "missing.safetensors"}}',
    );
    assert.throws(
      () => SafetensorsCheckpoint.open(dir),
      (e: Error) => e instanceof SafetensorsError && /missing\.safetensors: cannot open/.test(e.message),
    );
  });
});

describe('malformed safetensors files fail with clear errors', () => {
  const good = encodeSafetensors(sample());
  const withHeader = (header: unknown, dataBytes = 0): Uint8Array => {
    const json = Buffer.from(JSON.stringify(header));
    const out = new Uint8Array(8 + json.length + dataBytes);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    return out;
  };
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty file', new Uint8Array(0), /too short/],
    [
      'oversized header length',
      (() => {
        const b = new Uint8Array(16);
        new DataView(b.buffer).setBigUint64(0, 2n ** 40n, true);
        return b;
      })(),
      /exceeds the 100000000-byte limit/,
    ],
    [
      'header longer than the file',
      (() => {
        const b = new Uint8Array(16);
        new DataView(b.buffer).setBigUint64(0, 1000n, true);
        return b;
      })(),
      /truncated: the header claims 1000 bytes/,
    ],
    [
      'header not JSON',
      withHeader('x').map((v, i) => (i === 8 ? 0x7b : v)),
      /not valid JSON|not a JSON object/,
    ],
    [
      'unknown dtype',
      withHeader({ t: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, 1),
      /unknown dtype "F8_E4M3"/,
    ],
    [
      'offsets out of range',
      withHeader({ t: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, 4),
      /run past the data/,
    ],
    [
      'offsets that disagree with the shape',
      withHeader({ t: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8),
      /needs 12 bytes, data_offsets give 8/,
    ],
    [
      'negative shape',
      withHeader({ t: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4),
      /non-negative integers/,
    ],
    [
      'overlapping tensors',
      withHeader(
        {
          a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
          b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
        },
        8,
      ),
      /overlap/,
    ],
    ['truncated data', good.slice(0, good.length - 3), /truncated or corrupt/],
  ];
  for (const [name, bytes, pattern] of cases) {
    it(name, () => {
      const file = path.join(tmp(), 'bad.safetensors');
      writeFileSync(file, bytes);
      assert.throws(
        () => SafetensorsFile.open(file),
        (e: Error) => e instanceof SafetensorsError && pattern.test(e.message) && e.message.startsWith(file),
      );
    });
  }

  it('fuzz: random corruptions and truncations only ever raise SafetensorsError', () => {
    const rng = new Rng(1234);
    const dir = tmp();
    let rejected = 0;
    for (let k = 0; k < 400; k++) {
      const b = good.slice();
      const mode = k % 4;
      let bytes: Uint8Array = b;
      if (mode === 0) bytes = b.slice(0, rng.int(b.length));
      else if (mode === 1)
        for (let j = 0; j < 1 + rng.int(4); j++) b[rng.int(Math.min(b.length, 8 + 200))] = rng.int(256);
      else if (mode === 2) for (let j = 0; j < 8; j++) b[j] = rng.int(256);
      else for (let j = 0; j < 1 + rng.int(8); j++) b[rng.int(b.length)] = rng.int(256);
      const file = path.join(dir, `f${k}.safetensors`);
      writeFileSync(file, bytes);
      try {
        const f = SafetensorsFile.open(file);
        for (const n of f.names()) f.read(n);
        f.close();
      } catch (e) {
        assert.ok(
          e instanceof SafetensorsError,
          `case ${k} (mode ${mode}) threw ${(e as Error).name}: ${(e as Error).message}`,
        );
        rejected++;
      }
    }
    assert.ok(rejected > 100, `only ${rejected} of 400 corruptions were detected`);
  });
});
