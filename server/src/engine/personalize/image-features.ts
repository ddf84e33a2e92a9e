// The frozen vision tower's outputs per image, computed once and reused: projector features for training
// and inference (in memory, per image and flip), and pooled retrieval embeddings (also on disk, keyed by
// content hash and model fingerprint, so a second run recomputes nothing it already has).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../io/atomic-write';
import {
  anyresPixels,
  decodeRgb,
  preprocessImage,
  readImageProcessorConfig,
  type ImageProcessorConfig,
} from '../models/llava/image-processor';
import { mirrorRgb } from '../models/llava/pil-resize';
import type { LlavaModel } from '../models/llava/model';
import { f32 } from '../runtime/host-tensor';
import { contentHash } from '../subject/image-files';

export interface CacheStats {
  hits: number;
  misses: number;
}

export class ImageFeatureStore {
  private readonly features = new Map<string, Float32Array>();
  private readonly processor: ImageProcessorConfig;
  readonly stats: CacheStats = { hits: 0, misses: 0 };

  constructor(
    readonly model: LlavaModel,
    /** Where pooled embeddings are cached; null: memory only. */
    readonly cacheDir: string | null,
    readonly opts: { padToSquare?: boolean; batch?: number } = {},
  ) {
    this.processor = readImageProcessorConfig(model.dir, model.config.vision.imageSize);
  }

  private get dim(): number {
    const v = this.model.config.vision;
    return v.hidden * this.model.config.featureLayers.length;
  }

  /**
   * Projector features [N·D] of each image (optionally mirrored), in order. On an anyres model (LLaVA-NeXT,
   * OneVision) each image is its base view and tiles packed as the model's processor does, so N differs
   * from image to image; `imagesInPrompt` is how many images share the prompt these go into (OneVision
   * lays out several images differently from one).
   */
  async projected(files: string[], flips?: boolean[], imagesInPrompt = 1): Promise<Float32Array[]> {
    if (this.model.config.anyres) return this.projectedAnyres(files, flips, imagesInPrompt);
    const keys = files.map((f, i) => `${contentHash(f)}|${flips?.[i] ? 'flip' : ''}`);
    const todo = [...new Set(keys.filter((k) => !this.features.has(k)))];
    const byKey = new Map(keys.map((k, i) => [k, i]));
    await this.run(
      todo.map((k) => ({ file: files[byKey.get(k)!]!, flip: k.endsWith('flip') })),
      (j, out) => this.features.set(todo[j]!, out.features),
    );
    return keys.map((k) => this.features.get(k)!);
  }

  /** One image at a time: its tiles are a batch of their own (anyresPixels, encodeImages, packAnyres). */
  private async projectedAnyres(
    files: string[],
    flips: boolean[] | undefined,
    imagesInPrompt: number,
  ): Promise<Float32Array[]> {
    const anyres = this.model.config.anyres!;
    // Only OneVision lays several images out differently; for NeXT every count gives the same features.
    const layout = anyres.family === 'llava_onevision' && imagesInPrompt > 1 ? 'multi' : 'single';
    const out: Float32Array[] = [];
    for (const [i, file] of files.entries()) {
      const flip = Boolean(flips?.[i]);
      const key = `${contentHash(file)}|${flip ? 'flip' : ''}|${layout}`;
      let f = this.features.get(key);
      if (!f) {
        this.stats.misses++;
        let img = await decodeRgb(file);
        if (flip) img = mirrorRgb(img);
        const px = anyresPixels(img, this.processor, anyres, layout === 'multi' ? 2 : 1);
        const v = this.model.config.vision;
        const r = await this.model.encodeImages(f32([px.images, 3, v.imageSize, v.imageSize], px.pixels));
        f = this.model.packAnyres(r.features.data as Float32Array, px.imageSize, layout === 'multi' ? 2 : 1);
        this.features.set(key, f);
      } else this.stats.hits++;
      out.push(f);
    }
    return out;
  }

  /** L2-normalized retrieval embeddings, from the disk cache where possible. */
  async pooled(files: string[]): Promise<Float32Array[]> {
    const fp = this.model.fingerprint();
    const dir = this.cacheDir ? path.join(this.cacheDir, fp) : null;
    const out: (Float32Array | null)[] = files.map((f) => {
      if (!dir) return null;
      const p = path.join(dir, `${contentHash(f)}.f32`);
      if (!existsSync(p)) return null;
      const b = readFileSync(p);
      if (b.byteLength !== this.dim * 4) return null;
      this.stats.hits++;
      return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    });
    const missing = files.flatMap((f, i) => (out[i] ? [] : [{ file: f, flip: false, i }]));
    this.stats.misses += missing.length;
    await this.run(missing, (j, r) => {
      out[missing[j]!.i] = r.pooled;
      if (dir) {
        mkdirSync(dir, { recursive: true });
        writeFileAtomic(
          path.join(dir, `${contentHash(missing[j]!.file)}.f32`),
          new Uint8Array(r.pooled.buffer),
        );
      }
    });
    return out as Float32Array[];
  }

  private async run(
    items: { file: string; flip: boolean }[],
    done: (j: number, r: { features: Float32Array; pooled: Float32Array }) => void,
  ): Promise<void> {
    const v = this.model.config.vision;
    // Retrieval embeddings come from the tower's single view of each photo, for anyres models as for others.
    const per = 3 * v.imageSize * v.imageSize;
    const batch = this.opts.batch ?? 8;
    for (let s = 0; s < items.length; s += batch) {
      const chunk = items.slice(s, s + batch);
      const px = new Float32Array(chunk.length * per);
      for (const [j, it] of chunk.entries())
        px.set(
          await preprocessImage(it.file, this.processor, {
            padToSquare: this.opts.padToSquare,
            flip: it.flip,
          }),
          j * per,
        );
      const r = await this.model.encodeImages(f32([chunk.length, 3, v.imageSize, v.imageSize], px));
      const fN = (r.features.data as Float32Array).length / chunk.length;
      const pN = (r.pooled.data as Float32Array).length / chunk.length;
      chunk.forEach((_, j) =>
        done(s + j, {
          features: (r.features.data as Float32Array).slice(j * fN, (j + 1) * fN),
          pooled: (r.pooled.data as Float32Array).slice(j * pN, (j + 1) * pN),
        }),
      );
    }
  }
}
