// safetensors: an 8-byte little-endian header length, a JSON header of {name: {dtype, shape, data_offsets}},
// then the raw little-endian tensor bytes. Reading is lazy and positional, so multi-GB shards are never
// loaded whole; every header field is validated before any tensor is touched.
import { closeSync, fstatSync, readSync, existsSync } from 'node:fs';
import { FILE_CAPS, FileKindError, openRegularFileSync, readRegularFileSync } from './regular-file';
import path from 'node:path';
import { writeFileAtomic } from './atomic-write';

export type SafetensorsDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const DTYPE_BYTES: Record<SafetensorsDType, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** The Hugging Face reference implementation refuses headers above 100 MB; so do we. */
export const MAX_HEADER_BYTES = 100_000_000;

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** Absolute byte range in the file. */
  begin: number;
  end: number;
  file: string;
}

export type TensorData =
  | Float32Array
  | Float64Array
  | BigInt64Array
  | Int32Array
  | Uint8Array
  | Uint16Array
  | Int8Array
  | Int16Array;

export interface LoadedTensor {
  dtype: SafetensorsDType;
  shape: number[];
  data: TensorData;
}

/** One open .safetensors file. Call close() when done. */
export class SafetensorsFile {
  readonly tensors = new Map<string, TensorInfo>();
  readonly metadata: Record<string, string>;
  private fd: number | null;

  private constructor(
    readonly file: string,
    fd: number,
    header: ParsedHeader,
  ) {
    this.fd = fd;
    this.metadata = header.metadata;
    for (const t of header.tensors) this.tensors.set(t.name, t);
  }

  static open(file: string): SafetensorsFile {
    let fd: number;
    try {
      fd = openRegularFileSync(file, 'a safetensors file');
    } catch (e) {
      throw new SafetensorsError(
        file,
        e instanceof FileKindError
          ? e.message.slice(file.length + 2)
          : `cannot open: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    try {
      return new SafetensorsFile(file, fd, parseHeader(file, fd));
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }

  info(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (!t) throw new SafetensorsError(this.file, `no tensor named "${name}"`);
    return t;
  }

  /** The tensor's raw bytes (a fresh, aligned copy). */
  readBytes(name: string): Uint8Array {
    if (this.fd === null) throw new SafetensorsError(this.file, 'the file is closed');
    const t = this.info(name);
    const out = new Uint8Array(t.end - t.begin);
    let done = 0;
    while (done < out.length) {
      const n = readSync(this.fd, out, done, out.length - done, t.begin + done);
      if (n === 0) throw new SafetensorsError(this.file, `"${name}" is truncated`);
      done += n;
    }
    return out;
  }

  /** The tensor in its stored dtype. */
  read(name: string): LoadedTensor {
    const t = this.info(name);
    return { dtype: t.dtype, shape: [...t.shape], data: view(t.dtype, this.readBytes(name)) };
  }

  /** Float tensors (F16, BF16, F32, F64) as float32, the precision the CPU engine computes in. */
  readFloat32(name: string): Float32Array {
    const t = this.info(name);
    const bytes = this.readBytes(name);
    switch (t.dtype) {
      case 'F32':
        return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
      case 'F16':
        return f16ToF32(new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2));
      case 'BF16':
        return bf16ToF32(new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2));
      case 'F64':
        return Float32Array.from(new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8));
      default:
        throw new SafetensorsError(this.file, `"${name}" is ${t.dtype}, not a float tensor`);
    }
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

interface ParsedHeader {
  tensors: TensorInfo[];
  metadata: Record<string, string>;
}

function parseHeader(file: string, fd: number): ParsedHeader {
  const size = fstatSync(fd).size;
  const fail = (msg: string): never => {
    throw new SafetensorsError(file, msg);
  };
  if (size < 8) fail(`too short to be safetensors (${size} bytes; the header length alone takes 8)`);
  const lenBuf = Buffer.alloc(8);
  readSync(fd, lenBuf, 0, 8, 0);
  const headerLen = lenBuf.readBigUInt64LE(0);
  if (headerLen > BigInt(MAX_HEADER_BYTES))
    fail(`header length ${headerLen} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const n = Number(headerLen);
  if (8 + n > size)
    fail(`truncated: the header claims ${n} bytes but the file has ${size - 8} after the length`);
  const headerBuf = Buffer.alloc(n);
  readSync(fd, headerBuf, 0, n, 8);
  let json: unknown;
  try {
    json = JSON.parse(headerBuf.toString('utf8'));
  } catch (e) {
    fail(`the header is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    fail('the header is not a JSON object');
  const dataStart = 8 + n;
  const dataLen = size - dataStart;
  const tensors: TensorInfo[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Object.values(raw).some((v) => typeof v !== 'string')) {
        fail('__metadata__ must map strings to strings');
      }
      metadata = raw as Record<string, string>;
      continue;
    }
    const where = `tensor "${name}"`;
    if (typeof raw !== 'object' || raw === null) fail(`${where}: entry is not an object`);
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e.dtype !== 'string' || !(e.dtype in DTYPE_BYTES)) {
      fail(
        `${where}: unknown dtype ${JSON.stringify(e.dtype)} (known: ${Object.keys(DTYPE_BYTES).join(', ')})`,
      );
    }
    const dtype = e.dtype as SafetensorsDType;
    if (!Array.isArray(e.shape) || e.shape.some((d) => !Number.isSafeInteger(d) || (d as number) < 0)) {
      fail(`${where}: shape must be a list of non-negative integers, got ${JSON.stringify(e.shape)}`);
    }
    const shape = e.shape as number[];
    const off = e.data_offsets;
    if (
      !Array.isArray(off) ||
      off.length !== 2 ||
      off.some((o) => !Number.isSafeInteger(o) || (o as number) < 0)
    ) {
      fail(
        `${where}: data_offsets must be [begin, end] of non-negative integers, got ${JSON.stringify(off)}`,
      );
    }
    const [b, en] = off as [number, number];
    if (en < b) fail(`${where}: data_offsets [${b}, ${en}] end before they begin`);
    if (en > dataLen)
      fail(
        `${where}: data_offsets [${b}, ${en}] run past the data (${dataLen} bytes): the file is truncated or corrupt`,
      );
    const elements = shape.reduce((p, d) => p * d, 1);
    const expected = elements * DTYPE_BYTES[dtype];
    if (en - b !== expected) {
      fail(`${where}: ${dtype} [${shape.join(', ')}] needs ${expected} bytes, data_offsets give ${en - b}`);
    }
    tensors.push({ name, dtype, shape, begin: dataStart + b, end: dataStart + en, file });
  }
  // Overlapping tensors mean a corrupt or hostile file.
  const sorted = [...tensors].sort((a, c) => a.begin - c.begin);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.begin < sorted[i - 1]!.end)
      fail(`tensors "${sorted[i - 1]!.name}" and "${sorted[i]!.name}" overlap`);
  }
  return { tensors, metadata };
}

function view(dtype: SafetensorsDType, b: Uint8Array): TensorData {
  const buf = b.buffer;
  const o = b.byteOffset;
  const len = b.byteLength;
  switch (dtype) {
    case 'F64':
      return new Float64Array(buf, o, len / 8);
    case 'F32':
      return new Float32Array(buf, o, len / 4);
    case 'F16':
    case 'BF16':
      return new Uint16Array(buf, o, len / 2);
    case 'I64':
      return new BigInt64Array(buf, o, len / 8);
    case 'I32':
      return new Int32Array(buf, o, len / 4);
    case 'I16':
      return new Int16Array(buf, o, len / 2);
    case 'I8':
      return new Int8Array(buf, o, len);
    case 'U8':
    case 'BOOL':
      return new Uint8Array(buf, o, len);
  }
}

export function bf16ToF32(src: Uint16Array): Float32Array {
  const out = new Uint32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i]! << 16;
  return new Float32Array(out.buffer);
}

export function f16ToF32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const h = src[i]!;
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) out[i] = sign * frac * 2 ** -24;
    else if (exp === 31) out[i] = frac ? NaN : sign * Infinity;
    else out[i] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}

/**
 * bfloat16 → float16 (round to nearest even), or null when a value lies beyond float16's range (±65504),
 * where the tensor must stay wider. Values below float16's normal range (6.1e-5) keep fewer bits: an
 * absolute error of at most 3e-8.
 */
export function bf16ToF16(src: Uint16Array): Uint16Array | null {
  const out = new Uint16Array(src.length);
  const CHUNK = 1 << 16;
  for (let s = 0; s < src.length; s += CHUNK) {
    const part = bf16ToF32(src.subarray(s, Math.min(s + CHUNK, src.length)));
    for (const x of part) if (Math.abs(x) > 65504) return null;
    out.set(f32ToF16(part), s);
  }
  return out;
}

/** float32 → bfloat16 with round-to-nearest-even (as torch does). */
export function f32ToBf16(src: Float32Array): Uint16Array {
  const u = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const x = u[i]!;
    if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) out[i] = 0x7fc0;
    else out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
  return out;
}

/** float32 → float16, round to nearest even, with subnormals and overflow to infinity. */
export function f32ToF16(src: Float32Array): Uint16Array {
  const out = new Uint16Array(src.length);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < src.length; i++) {
    f[0] = src[i]!;
    const x = u[0]!;
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    const mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 31) out[i] = sign | 0x7c00;
    else if (e <= 0) {
      if (e < -10) out[i] = sign;
      else {
        const m = mant | 0x800000;
        const shift = 14 - e;
        let h = m >> shift;
        const rem = m & ((1 << shift) - 1);
        const half = 1 << (shift - 1);
        if (rem > half || (rem === half && h & 1)) h++;
        out[i] = sign | h;
      }
    } else {
      let h = (e << 10) | (mant >> 13);
      const rem = mant & 0x1fff;
      if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
      out[i] = sign | h;
    }
  }
  return out;
}

/** A checkpoint: one .safetensors file or shards listed by model.safetensors.index.json. */
export class SafetensorsCheckpoint {
  private constructor(
    readonly dir: string,
    private readonly files: Map<string, SafetensorsFile>,
    private readonly where: Map<string, SafetensorsFile>,
  ) {}

  /**
   * Opens `dir`/model.safetensors, or the shards named by `dir`/model.safetensors.index.json.
   * `prefix` selects another base name (e.g. "adapter_model").
   */
  static open(dir: string, prefix = 'model'): SafetensorsCheckpoint {
    const single = path.join(dir, `${prefix}.safetensors`);
    const index = path.join(dir, `${prefix}.safetensors.index.json`);
    const files = new Map<string, SafetensorsFile>();
    const where = new Map<string, SafetensorsFile>();
    try {
      if (existsSync(index)) {
        let parsed: { weight_map?: Record<string, string> };
        try {
          parsed = JSON.parse(
            readRegularFileSync(index, 'a shard index', FILE_CAPS.tokenizer).toString('utf8'),
          ) as typeof parsed;
        } catch (e) {
          if (e instanceof FileKindError)
            throw new SafetensorsError(index, e.message.slice(index.length + 2));
          throw new SafetensorsError(index, `not valid JSON: ${(e as Error).message}`);
        }
        if (!parsed.weight_map || typeof parsed.weight_map !== 'object') {
          throw new SafetensorsError(index, 'field "weight_map" is missing or not an object');
        }
        for (const [name, shard] of Object.entries(parsed.weight_map)) {
          if (typeof shard !== 'string' || shard.includes('..') || path.isAbsolute(shard)) {
            throw new SafetensorsError(
              index,
              `weight_map["${name}"]: shard ${JSON.stringify(shard)} must be a file name inside the folder`,
            );
          }
          let f = files.get(shard);
          if (!f) {
            f = SafetensorsFile.open(path.join(dir, shard));
            files.set(shard, f);
          }
          if (!f.tensors.has(name))
            throw new SafetensorsError(
              f.file,
              `the index lists "${name}" here, but the shard has no such tensor`,
            );
          where.set(name, f);
        }
      } else if (existsSync(single)) {
        const f = SafetensorsFile.open(single);
        files.set(path.basename(single), f);
        for (const n of f.names()) where.set(n, f);
      } else {
        throw new SafetensorsError(
          dir,
          `no ${prefix}.safetensors or ${prefix}.safetensors.index.json in this folder`,
        );
      }
    } catch (e) {
      for (const f of files.values()) f.close();
      throw e;
    }
    return new SafetensorsCheckpoint(dir, files, where);
  }

  names(): string[] {
    return [...this.where.keys()];
  }

  has(name: string): boolean {
    return this.where.has(name);
  }

  info(name: string): TensorInfo {
    return this.file(name).info(name);
  }

  read(name: string): LoadedTensor {
    return this.file(name).read(name);
  }

  readFloat32(name: string): Float32Array {
    return this.file(name).readFloat32(name);
  }

  /** All raw tensor bytes in name order, for fingerprints. */
  *rawTensors(): Generator<{ name: string; bytes: Uint8Array }> {
    for (const name of [...this.where.keys()].sort()) yield { name, bytes: this.file(name).readBytes(name) };
  }

  close(): void {
    for (const f of this.files.values()) f.close();
  }

  private file(name: string): SafetensorsFile {
    const f = this.where.get(name);
    if (!f) throw new SafetensorsError(this.dir, `the checkpoint has no tensor named "${name}"`);
    return f;
  }
}

export interface TensorToWrite {
  dtype: SafetensorsDType;
  shape: number[];
  data: ArrayBufferView;
}

/**
 * The file's first bytes (length prefix and JSON header, padded to 8 bytes) for tensors written in name
 * order, and how many data bytes follow: enough to stream a file too large to build in memory.
 */
export function safetensorsHeader(
  tensors: Record<string, { dtype: SafetensorsDType; shape: number[] }>,
  metadata?: Record<string, string>,
): { bytes: Uint8Array; dataBytes: number } {
  const header: Record<string, unknown> = {};
  if (metadata) header['__metadata__'] = metadata;
  let offset = 0;
  for (const name of Object.keys(tensors).sort()) {
    const t = tensors[name]!;
    const size = t.shape.reduce((p, d) => p * d, 1) * DTYPE_BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const text = Buffer.from(json, 'utf8');
  const bytes = new Uint8Array(8 + text.length);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(text.length), true);
  bytes.set(text, 8);
  return { bytes, dataBytes: offset };
}

/** Serializes tensors (sorted by name, 8-byte aligned header) to safetensors bytes. */
export function encodeSafetensors(
  tensors: Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Uint8Array {
  const names = Object.keys(tensors).sort();
  for (const name of names) {
    const t = tensors[name]!;
    const expected = t.shape.reduce((p, d) => p * d, 1) * DTYPE_BYTES[t.dtype];
    if (t.data.byteLength !== expected) {
      throw new Error(
        `safetensors: "${name}" ${t.dtype} [${t.shape.join(', ')}] needs ${expected} bytes, got ${t.data.byteLength}`,
      );
    }
  }
  const { bytes: headerBytes, dataBytes: offset } = safetensorsHeader(tensors, metadata);
  const out = new Uint8Array(headerBytes.length + offset);
  out.set(headerBytes, 0);
  let o = headerBytes.length;
  for (const name of names) {
    const d = tensors[name]!.data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), o);
    o += d.byteLength;
  }
  return out;
}

/** Writes a safetensors file atomically: readers see the old file or the whole new one, never a part. */
export function writeSafetensors(
  file: string,
  tensors: Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): void {
  writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}
