// Per field: unreadable images, images too small to learn from, too few training photos, and exact or
// near duplicates within the field.
import path from 'node:path';
import { duplicatePairs } from './duplicates';
import type { RuleRun } from './rule';

export const MIN_TRAIN_IMAGES = 3;
export const RECOMMENDED_TRAIN_IMAGES = 5;

export function checkImageQuality(run: RuleRun): void {
  const { ctx, summary, diag } = run;
  const minSide = ctx.minSide ?? 32;
  for (const [field, files] of summary.images) {
    const p = field.split('.').map((x) => (/^\d+$/.test(x) ? Number(x) : x));
    const bad = files.filter((f) => !summary.checks.get(f)!.ok);
    if (bad.length) {
      const first = summary.checks.get(bad[0]!)!;
      // Training leaves broken photos and pool images out (personalize.ts); only too few usable photos, or a
      // broken test photo (evaluation would be on fewer than named), is an error.
      const usable = files.length - bad.length;
      const skipped =
        field.startsWith('negatives') || (field === 'images.train' && usable >= MIN_TRAIN_IMAGES);
      diag(
        p,
        skipped ? 'warning' : 'error',
        'unreadable-image',
        `${field}: ${bad.length} file(s) cannot be used: ${path.basename(bad[0]!)} is ${first.error}${
          bad.length > 1
            ? `; also ${bad
                .slice(1, 4)
                .map((b) => path.basename(b))
                .join(', ')}${bad.length > 4 ? ', …' : ''}`
            : ''
        }${skipped ? '; training leaves them out' : ''}`,
      );
    }
    const tiny = files.filter((f) => {
      const c = summary.checks.get(f)!;
      return c.ok && Math.min(c.width!, c.height!) < minSide;
    });
    if (tiny.length)
      diag(
        p,
        'warning',
        'tiny-image',
        `${field}: ${tiny.length} image(s) smaller than ${minSide} px on a side (${tiny
          .slice(0, 3)
          .map((t) => path.basename(t))
          .join(', ')}): too small to learn from`,
      );
    if (field.startsWith('negatives')) continue;
    const good = files.filter((f) => summary.checks.get(f)!.ok);
    if (field === 'images.train') {
      if (good.length < MIN_TRAIN_IMAGES)
        diag(
          p,
          'error',
          'too-few-images',
          `images.train: ${good.length} usable photo(s); at least ${MIN_TRAIN_IMAGES} are needed (about ${RECOMMENDED_TRAIN_IMAGES} work well)`,
        );
      else if (good.length < RECOMMENDED_TRAIN_IMAGES)
        diag(
          p,
          'warning',
          'few-images',
          `images.train: ${good.length} photos; about ${RECOMMENDED_TRAIN_IMAGES} give better results`,
        );
    }
    for (const [a, b, exact] of duplicatePairs(good, good, summary.checks, ctx.nearDuplicateBits ?? 4)) {
      diag(
        p,
        'warning',
        'duplicate-image',
        `${field}: ${path.basename(a)} and ${path.basename(b)} are ${exact ? 'the same image' : 'near duplicates'}: keep one`,
      );
    }
  }
}
