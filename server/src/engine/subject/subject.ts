// A subject file on disk → its settings with defaults, its resolved image lists, and errors as
// "file:line:column: message" (the concept-file parser is shared with the language server).
import { defaultModelDir } from '../models/default-model-dir';
import { existsSync } from 'node:fs';
import { FILE_CAPS, FileKindError, readRegularTextSync } from '../io/regular-file';
import path from 'node:path';
import { formatDiagnostic, parseSubject, type SubjectFile } from './subject-file';
import { DatasetError, resolveImages } from './image-files';
import type { Category } from './category';

export interface ResolvedSubject {
  file: string;
  dir: string;
  name: string;
  category: Category;
  description?: string;
  train: string[];
  test: string[];
  pools: string[];
  hard: number;
  random: number;
  training: {
    tokens: number;
    epochs: number;
    learningRate: number;
    weightDecay: number;
    batchSize: number;
    seed: number;
    headRows: 'all' | 'name';
  };
  modelDir?: string;
}

export class SubjectError extends Error {
  override name = 'SubjectError';
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

export function loadSubject(
  file: string,
  defaults: { pools?: string[]; modelDir?: string } = {},
): ResolvedSubject {
  if (!existsSync(file)) throw new SubjectError([`${file}: not found`]);
  let text: string;
  try {
    text = readRegularTextSync(file, 'a subject file', FILE_CAPS.subject);
  } catch (e) {
    throw new SubjectError([
      e instanceof FileKindError
        ? e.message
        : `${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    ]);
  }
  const parsed = parseSubject(text);
  const errors = parsed.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length || !parsed.value)
    throw new SubjectError(errors.map((d) => formatDiagnostic(file, parsed, d)));
  const v = parsed.value as Required<Pick<SubjectFile, 'name' | 'category' | 'images'>> & SubjectFile;
  const dir = path.dirname(path.resolve(file));
  const problems: string[] = [];
  const at = (field: (string | number)[], message: string): string => {
    const r = parsed.rangeOf(field);
    return formatDiagnostic(file, parsed, {
      ...r,
      severity: 'error',
      message,
      field: field.join('.'),
      code: 'dataset',
    });
  };
  const images = (field: 'train' | 'test'): string[] => {
    try {
      return resolveImages(dir, v.images[field], `images.${field}`);
    } catch (e) {
      if (e instanceof DatasetError) problems.push(at(['images', field], e.message));
      return [];
    }
  };
  const train = images('train');
  const test = images('test');
  if (!problems.length && train.length < 3)
    problems.push(
      at(
        ['images', 'train'],
        `images.train: ${train.length} image(s); at least 3 photos of the subject are needed (about 5 work well)`,
      ),
    );
  const poolSources = v.negatives?.pools ?? defaults.pools ?? [];
  const pools: string[] = [];
  poolSources.forEach((p, i) => {
    try {
      pools.push(...resolveImages(dir, p, `negatives.pools[${i}]`));
    } catch (e) {
      if (e instanceof DatasetError)
        problems.push(
          v.negatives?.pools
            ? at(['negatives', 'pools', i], e.message)
            : `${file}: default negative pool ${p}: ${e.message}`,
        );
    }
  });
  if (problems.length) throw new SubjectError(problems);
  const t = v.training ?? {};
  return {
    file: path.resolve(file),
    dir,
    name: v.name,
    category: v.category,
    description: v.description,
    train,
    test,
    pools: [...new Set(pools)],
    hard: v.negatives?.hard ?? 100,
    random: v.negatives?.random ?? 100,
    training: {
      tokens: t.tokens ?? 16,
      epochs: t.epochs ?? 6,
      learningRate: t.learningRate ?? 8e-3,
      weightDecay: t.weightDecay ?? 0.01,
      batchSize: t.batchSize ?? 16,
      seed: t.seed ?? 0,
      headRows: t.headRows ?? 'all',
    },
    modelDir: v.model ? path.resolve(dir, v.model) : (defaults.modelDir ?? defaultModelDir()),
  };
}
