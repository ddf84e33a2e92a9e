// Reading files that a workspace or a model folder names, which may be hostile: a FIFO blocks an open or a
// read for good (and holds one of libuv's four pool threads while it does), /dev/zero never ends, and a
// 200 MB JSON file stalls whoever parses it. Every such read goes through here: the path must be a regular
// file (after symlinks), no larger than a cap that fits its kind, and it is opened non-blocking so that a
// FIFO swapped in after the check still cannot block. The type is checked again on the open descriptor.
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';

export class FileKindError extends Error {
  override name = 'FileKindError';
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
  }
}

/** Caps by kind of file, in bytes. Each is far above the real thing and far below what hurts. */
export const FILE_CAPS = {
  /** A *.subject.yaml read from disk (the open document in the editor is bounded separately). */
  subject: 1 << 20,
  /** concept.json: a few kB. */
  conceptMeta: 1 << 20,
  /** A concept's weights: (k + 1) rows of embeddings and head at the model's width. */
  conceptWeights: 256 << 20,
  /** A photo. 200 MB holds a 50-megapixel TIFF. */
  image: 200 << 20,
  /** config.json, preprocessor_config.json, chat_template.json, generation_config.json. */
  modelConfig: 1 << 20,
  /** tokenizer.json (Qwen2's is 7 MB) and tokenizer_config.json. */
  tokenizer: 32 << 20,
  /** Small JSON that the product writes itself (locks, checkpoints' state, QA files). */
  smallJson: 16 << 20,
} as const;

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function mb(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(n >= 10 << 20 ? 0 : 1)} MB` : `${Math.ceil(n / 1024)} kB`;
}

function check(file: string, st: Stats, what: string, maxBytes: number): void {
  if (!st.isFile())
    throw new FileKindError(`${file}: ${what} must be a regular file, and this is ${kindOf(st)}`, file);
  if (st.size > maxBytes)
    throw new FileKindError(
      `${file}: ${what} is ${mb(st.size)}, over the ${mb(maxBytes)} limit for it`,
      file,
    );
}

/**
 * The file's stats when it is a regular file (symlinks followed) of at most `maxBytes`; otherwise a
 * FileKindError that names the file and what it is. ENOENT and EACCES pass through as they are.
 */
function statRegularFile(file: string, what: string, maxBytes: number): Stats {
  const st = statSync(file);
  check(file, st, what, maxBytes);
  return st;
}

// O_NONBLOCK makes an open of a FIFO return at once instead of waiting for a writer.
const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/** The whole file, when it is a regular file of at most `maxBytes` (see statRegularFile). */
export function readRegularFileSync(file: string, what: string, maxBytes: number): Buffer {
  statRegularFile(file, what, maxBytes);
  const fd = openSync(file, READ_FLAGS);
  try {
    const st = fstatSync(fd);
    check(file, st, what, maxBytes);
    const buf = Buffer.allocUnsafe(st.size);
    let at = 0;
    while (at < st.size) {
      const n = readSync(fd, buf, at, st.size - at, at);
      if (n === 0) break; // shrank meanwhile
      at += n;
    }
    return at === st.size ? buf : buf.subarray(0, at);
  } finally {
    closeSync(fd);
  }
}

export async function readRegularFile(file: string, what: string, maxBytes: number): Promise<Buffer> {
  statRegularFile(file, what, maxBytes);
  const h = await open(file, READ_FLAGS);
  try {
    const st = await h.stat();
    check(file, st, what, maxBytes);
    const buf = Buffer.allocUnsafe(st.size);
    let at = 0;
    while (at < st.size) {
      const { bytesRead } = await h.read(buf, at, st.size - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    return at === st.size ? buf : buf.subarray(0, at);
  } finally {
    await h.close();
  }
}

export function readRegularTextSync(file: string, what: string, maxBytes: number): string {
  return readRegularFileSync(file, what, maxBytes).toString('utf8');
}

/** Opens a regular file (of any size) for reading by descriptor, non-blocking, type checked on the fd. */
export function openRegularFileSync(file: string, what: string): number {
  const fd = openSync(file, READ_FLAGS);
  try {
    check(file, fstatSync(fd), what, Number.MAX_SAFE_INTEGER);
    return fd;
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}
