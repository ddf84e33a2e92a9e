// Per-image checks (decodable, size, content hash, perceptual hash), cached by content hash so that a
// folder of a thousand photos revalidates incrementally. Decoding runs on sharp's thread pool: the event
// loop stays free, and a huge or bogus file costs one failed or shrunk decode, never a hang.
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { FILE_CAPS, FileKindError, readRegularFile } from '../io/regular-file';
import sharp from 'sharp';

export interface ImageCheck {
  file: string;
  sha256: string;
  ok: boolean;
  width?: number;
  height?: number;
  /** 64-bit difference hash as 16 hex digits (near duplicates differ in few bits). */
  dhash?: string;
  error?: string;
}

/** Decoding is refused above this many pixels (sharp's own default is about 268 MP). */
export const MAX_PIXELS = 120_000_000;

export class ImageCheckCache {
  private readonly byHash = new Map<string, Omit<ImageCheck, 'file'>>();
  private readonly byPath = new Map<string, { mtimeMs: number; size: number; sha256: string }>();
  /** How many decodes the cache saved and how many it had to do (for the benchmark and tests). */
  readonly stats = { hits: 0, decodes: 0 };

  async check(file: string): Promise<ImageCheck> {
    let st;
    try {
      st = await stat(file);
    } catch (e) {
      return {
        file,
        sha256: '',
        ok: false,
        error: unreadable(e),
      };
    }
    let bytes: Buffer | undefined;
    let sha = this.byPath.get(file);
    if (!sha || sha.mtimeMs !== st.mtimeMs || sha.size !== st.size) {
      try {
        bytes = await readRegularFile(file, 'a photo', FILE_CAPS.image);
      } catch (e) {
        return { file, sha256: '', ok: false, error: unreadable(e) };
      }
      sha = { mtimeMs: st.mtimeMs, size: st.size, sha256: createHash('sha256').update(bytes).digest('hex') };
      this.byPath.set(file, sha);
    }
    const cached = this.byHash.get(sha.sha256);
    if (cached) {
      this.stats.hits++;
      return { file, ...cached };
    }
    if (!bytes) {
      try {
        bytes = await readRegularFile(file, 'a photo', FILE_CAPS.image);
      } catch (e) {
        return { file, sha256: '', ok: false, error: unreadable(e) };
      }
    }
    const result = await decode(bytes, sha.sha256);
    this.stats.decodes++;
    this.byHash.set(sha.sha256, result);
    return { file, ...result };
  }

  /** Checks many files with bounded concurrency (sharp has few threads; this keeps latency fair). */
  async checkAll(files: string[], concurrency = 8): Promise<ImageCheck[]> {
    const out: ImageCheck[] = new Array(files.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < files.length) {
        const i = next++;
        out[i] = await this.check(files[i]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
    return out;
  }
}

async function decode(bytes: Buffer, sha256: string): Promise<Omit<ImageCheck, 'file'>> {
  try {
    const img = sharp(bytes, { limitInputPixels: MAX_PIXELS, failOn: 'error' });
    const meta = await img.metadata();
    if (!meta.width || !meta.height) return { sha256, ok: false, error: 'the image has no size' };
    // 9×8 grey thumbnail → 64 bits: is each cell brighter than its right neighbour? Small images are
    // decoded to raw pixels and averaged here, which is about 3× faster than sharp's resize pipeline for
    // them; large ones let sharp shrink first (JPEG shrink-on-load).
    const small = meta.width * meta.height <= 1_000_000;
    const { data, info } = await (small ? img : img.resize(9, 8, { fit: 'fill' }))
      .raw()
      .toBuffer({ resolveWithObject: true });
    const grey = areaGrey(data, info.width, info.height, info.channels);
    let bits = 0n;
    for (let y = 0; y < 8; y++)
      for (let x = 0; x < 8; x++) bits = (bits << 1n) | (grey[y * 9 + x]! > grey[y * 9 + x + 1]! ? 1n : 0n);
    return {
      sha256,
      ok: true,
      width: meta.width,
      height: meta.height,
      dhash: bits.toString(16).padStart(16, '0'),
    };
  } catch (e) {
    const msg = (e as Error).message;
    const reason = /pixel limit/i.test(msg)
      ? `larger than ${MAX_PIXELS / 1e6} megapixels`
      : 'not a decodable image';
    return { sha256, ok: false, error: `${reason} (${msg.split('\n')[0]})` };
  }
}

/** Mean luminance over a 9×8 grid of cells. */
function areaGrey(px: Buffer, w: number, h: number, channels: number): Float64Array {
  const out = new Float64Array(72);
  for (let cy = 0; cy < 8; cy++) {
    const y0 = Math.floor((cy * h) / 8);
    const y1 = Math.max(y0 + 1, Math.floor(((cy + 1) * h) / 8));
    for (let cx = 0; cx < 9; cx++) {
      const x0 = Math.floor((cx * w) / 9);
      const x1 = Math.max(x0 + 1, Math.floor(((cx + 1) * w) / 9));
      let sum = 0;
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) {
          const i = (y * w + x) * channels;
          sum += channels >= 3 ? 0.299 * px[i]! + 0.587 * px[i + 1]! + 0.114 * px[i + 2]! : px[i]!;
        }
      }
      out[cy * 9 + cx] = sum / ((y1 - y0) * (x1 - x0));
    }
  }
  return out;
}

function unreadable(e: unknown): string {
  // A FileKindError already names the file; the check's message is about that file.
  if (e instanceof FileKindError) return e.message.slice(e.file.length + 2);
  return `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
}
