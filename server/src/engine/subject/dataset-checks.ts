// Checks of a subject's dataset on disk, as diagnostics placed on the field they concern: missing
// folders, unreadable images, too few photos, exact and near duplicates, train/test leakage, tiny images,
// a name another subject uses, and a name the model already has as a word.
import { existsSync } from 'node:fs';
import { insideRoots, realPathSoFar } from '../io/inside-roots';
import path from 'node:path';
import { DatasetError, resolveImages } from './image-files';
import type { ImageCheck, ImageCheckCache } from './image-checks';
import type { ParsedSubject, SubjectDiagnostic } from './subject-file';

export interface DatasetContext {
  cache: ImageCheckCache;
  /** Other subject files' names → their files. */
  otherNames: Map<string, string[]>;
  /** Whether a word is already in the selected model's vocabulary (undefined: no model to ask). */
  isVocabularyWord?: (word: string) => boolean;
  /** Images smaller than this on either side are flagged. */
  minSide?: number;
  /** perceptual-hash distance at or under which two photos count as near duplicates */
  nearDuplicateBits?: number;
  /**
   * The workspace folders: image folders that resolve outside all of them (through "../", an absolute
   * path or a symbolic link) get a warning. Undefined: no workspace, no check.
   */
  workspaceRoots?: string[];
  /**
   * False in an untrusted workspace (Restricted Mode): a source outside `workspaceRoots` is reported but
   * neither listed nor read, so that a cloned workspace cannot make the editor read the user's other files.
   */
  readOutside?: boolean;
  /**
   * Lists a source's images (see resolveImages; throws DatasetError). The language server passes one that
   * walks on its parsing thread, so that a glob over a large tree never holds up its message loop.
   * Default: resolveImages, here.
   */
  resolveImages?: (baseDir: string, source: string, field: string) => Promise<string[]>;
}

export interface DatasetSummary {
  /** Resolved images per field ("images.train", "images.test", "negatives.pools.0", …). */
  images: Map<string, string[]>;
  checks: Map<string, ImageCheck>;
}

/** The real path (symbolic links resolved) when it exists, else the path as given. */
export const MIN_TRAIN_IMAGES = 3;
export const RECOMMENDED_TRAIN_IMAGES = 5;

export async function checkDataset(
  file: string,
  parsed: ParsedSubject,
  ctx: DatasetContext,
): Promise<{ diagnostics: SubjectDiagnostic[]; summary: DatasetSummary }> {
  const v = parsed.value;
  const diagnostics: SubjectDiagnostic[] = [];
  const summary: DatasetSummary = { images: new Map(), checks: new Map() };
  if (!v) return { diagnostics, summary };
  const dir = path.dirname(file);
  const diag = (
    p: (string | number)[],
    severity: SubjectDiagnostic['severity'],
    code: string,
    message: string,
    data?: unknown,
  ): void => {
    diagnostics.push({
      ...parsed.rangeOf(p),
      severity,
      message,
      field: p.join('.'),
      code,
      ...(data ? { data } : {}),
    } as SubjectDiagnostic);
  };

  const sources: [(string | number)[], string | string[] | undefined][] = [
    [['images', 'train'], v.images?.train],
    [['images', 'test'], v.images?.test],
    ...(v.negatives?.pools ?? []).map(
      (p, i) => [['negatives', 'pools', i], p] as [(string | number)[], string],
    ),
  ];
  for (const [p, src] of sources) {
    if (src === undefined || (typeof src !== 'string' && !Array.isArray(src))) continue;
    const list = Array.isArray(src) ? src : [src];
    const found: string[] = [];
    for (const [i, one] of list.entries()) {
      if (typeof one !== 'string') continue;
      const at = Array.isArray(src) ? [...p, i] : p;
      if (ctx.workspaceRoots?.length) {
        const source = path.resolve(dir, one.replace(/[*?[{].*$/, ''));
        const real = realPathSoFar(source);
        if (!insideRoots(source, ctx.workspaceRoots)) {
          if (ctx.readOutside === false) {
            diag(
              at,
              'warning',
              'outside-workspace',
              `${p.join('.')}: "${one}" is outside the workspace (${real}); not read in Restricted Mode`,
            );
            continue;
          }
          diag(
            at,
            'warning',
            'outside-workspace',
            `${p.join('.')}: "${one}" is outside the workspace (${real}); a subject file from elsewhere could read any folder this way`,
          );
        }
      }
      try {
        found.push(
          ...(ctx.resolveImages
            ? await ctx.resolveImages(dir, one, p.join('.'))
            : resolveImages(dir, one, p.join('.'))),
        );
      } catch (e) {
        // One field's unreadable source is that field's error: the other fields' checks go on.
        const missing = !/[*?]/.test(one) && !existsSync(path.resolve(dir, one));
        const message =
          e instanceof DatasetError
            ? e.message
            : `${p.join('.')}: cannot read "${one}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
        if (missing)
          diag(at, 'error', 'missing-folder', `${p.join('.')}: folder "${one}" not found`, {
            folder: path.resolve(dir, one),
          });
        else diag(at, 'error', 'unreadable-source', message);
      }
    }
    summary.images.set(p.join('.'), found);
  }

  const all = [...new Set([...summary.images.values()].flat())];
  for (const c of await ctx.cache.checkAll(all)) summary.checks.set(c.file, c);

  const minSide = ctx.minSide ?? 32;
  for (const [field, files] of summary.images) {
    const p = field.split('.').map((x) => (/^\d+$/.test(x) ? Number(x) : x));
    const bad = files.filter((f) => !summary.checks.get(f)!.ok);
    if (bad.length) {
      const first = summary.checks.get(bad[0]!)!;
      diag(
        p,
        field.startsWith('negatives') ? 'warning' : 'error',
        'unreadable-image',
        `${field}: ${bad.length} file(s) cannot be used: ${path.basename(bad[0]!)} is ${first.error}${
          bad.length > 1
            ? `; also ${bad
                .slice(1, 4)
                .map((b) => path.basename(b))
                .join(', ')}${bad.length > 4 ? ', …' : ''}`
            : ''
        }`,
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

  const train = (summary.images.get('images.train') ?? []).filter((f) => summary.checks.get(f)?.ok);
  const test = (summary.images.get('images.test') ?? []).filter((f) => summary.checks.get(f)?.ok);
  const leaks = duplicatePairs(test, train, summary.checks, ctx.nearDuplicateBits ?? 4);
  if (leaks.length) {
    const [a, b, exact] = leaks[0]!;
    diag(
      ['images', 'test'],
      'error',
      'leakage',
      `images.test: ${leaks.length} test photo(s) also in training (${path.basename(a)} ${exact ? 'is' : 'nearly matches'} ${path.basename(b)}): evaluation would be meaningless`,
    );
  }

  if (typeof v.name === 'string') {
    const others = ctx.otherNames.get(v.name)?.filter((f) => path.resolve(f) !== path.resolve(file)) ?? [];
    if (others.length) {
      diag(
        ['name'],
        'error',
        'name-collision',
        `name: "${v.name}" is also the name in ${others.map((o) => path.relative(dir, o)).join(', ')}; names must be unique`,
        { suggestion: uniqueName(v.name, ctx.otherNames) },
      );
    }
    const reserved = reservedNameProblem(v.name, ctx.isVocabularyWord);
    if (reserved) {
      diag(['name'], 'error', 'name-in-vocabulary', `name: ${reserved}`, {
        suggestion: uniqueName(v.name, ctx.otherNames),
      });
    }
  }
  return { diagnostics, summary };
}

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Pairs (a, b) that are the same bytes or whose perceptual hashes differ in ≤ `bits` bits. */
function duplicatePairs(
  a: string[],
  b: string[],
  checks: Map<string, ImageCheck>,
  bits: number,
  limit = 20,
): [string, string, boolean][] {
  // Reporting stops at `limit` pairs: a folder of 5,000 copies must not produce millions of diagnostics.
  const out: [string, string, boolean][] = [];
  const same = a === b;
  // Split the 64-bit hashes into two 32-bit halves once: the pair loop then costs a few ns per pair.
  const halves = (files: string[]) =>
    files.map((f) => {
      const c = checks.get(f)!;
      const h = c.dhash ?? '0'.repeat(16);
      return { sha: c.sha256, hi: parseInt(h.slice(0, 8), 16) | 0, lo: parseInt(h.slice(8), 16) | 0 };
    });
  const ha = halves(a);
  const hb = same ? ha : halves(b);
  for (let i = 0; i < a.length && out.length < limit; i++) {
    const x = ha[i]!;
    for (let j = same ? i + 1 : 0; j < b.length && out.length < limit; j++) {
      if (a[i] === b[j]) continue;
      const y = hb[j]!;
      if (x.sha === y.sha) out.push([a[i]!, b[j]!, true]);
      else if (popcount32(x.hi ^ y.hi) + popcount32(x.lo ^ y.lo) <= bits) out.push([a[i]!, b[j]!, false]);
    }
  }
  return out;
}

export function uniqueName(name: string, taken: Map<string, string[]>): string {
  for (let i = 2; ; i++) if (!taken.has(`${name}${i}`)) return `${name}${i}`;
}

/**
 * Why `name` cannot be a concept's name, or null. "token3" would share an id with the latent token <token3>;
 * "unk" would make <unk>, the tokenizer's own unknown token; "the" is a word the model already knows. Each
 * of them trains without a word and answers wrongly, so they are refused by the editor, `yollava validate`
 * and training alike (`isVocabularyToken` tells the model's tokenizer's tokens, where one is known).
 */
export function reservedNameProblem(
  name: string,
  isVocabularyToken?: (token: string) => boolean,
): string | null {
  if (/^token\d+$/i.test(name))
    return `"${name}" is the name of one of the concept's own latent tokens (<token0>, <token1>, …); pick another`;
  if (isVocabularyToken?.(name))
    return `"${name}" is already a word in the model's vocabulary; the model would confuse it with that word`;
  if (isVocabularyToken?.(`<${name}>`))
    return `"<${name}>" is already a token of the model's tokenizer; the concept would share its id`;
  return null;
}
