// Checks of a subject's dataset on disk, as diagnostics placed on the field they concern. Each rule lives
// in dataset-rules/: the sources listed (missing folders, paths out of the workspace), image quality per
// field (unreadable, tiny, too few, duplicates), train/test leakage, and the name (taken, or a word or
// token the model already has).
import path from 'node:path';
import { checkImageQuality } from './dataset-rules/image-quality';
import { checkLeakage } from './dataset-rules/leakage';
import { checkName } from './dataset-rules/names';
import { checkNegatives } from './dataset-rules/negatives';
import type { DatasetContext, DatasetSummary, RuleRun } from './dataset-rules/rule';
import { listSources } from './dataset-rules/sources';
import type { ParsedSubject, SubjectDiagnostic } from './subject-file';

export type { DatasetContext, DatasetSummary } from './dataset-rules/rule';
export { MIN_TRAIN_IMAGES, RECOMMENDED_TRAIN_IMAGES } from './dataset-rules/image-quality';
export { reservedNameProblem, uniqueName } from './dataset-rules/names';

export async function checkDataset(
  file: string,
  parsed: ParsedSubject,
  ctx: DatasetContext,
): Promise<{ diagnostics: SubjectDiagnostic[]; summary: DatasetSummary }> {
  const diagnostics: SubjectDiagnostic[] = [];
  const summary: DatasetSummary = { images: new Map(), checks: new Map() };
  if (!parsed.value) return { diagnostics, summary };
  const run: RuleRun = {
    file,
    dir: path.dirname(file),
    parsed,
    value: parsed.value,
    ctx,
    summary,
    diag(p, severity, code, message, data) {
      diagnostics.push({
        ...parsed.rangeOf(p),
        severity,
        message,
        field: p.join('.'),
        code,
        ...(data ? { data } : {}),
      } as SubjectDiagnostic);
    },
  };
  await listSources(run);
  const all = [...new Set([...summary.images.values()].flat())];
  for (const c of await ctx.cache.checkAll(all)) summary.checks.set(c.file, c);
  checkImageQuality(run);
  checkLeakage(run);
  checkNegatives(run);
  checkName(run);
  return { diagnostics, summary };
}
