// Validating one subject file: the YAML and schema, then its dataset on disk. The language server and
// `yollava validate` both call this, so the editor and the command line report the same problems.
import { checkDataset, type DatasetContext, type DatasetSummary } from './dataset-checks';
import type { ParsedSubject, SubjectDiagnostic } from './subject-file';

export interface SubjectValidation {
  parsed: ParsedSubject;
  /** The file's own problems, then its dataset's, each with offsets into `text`. */
  diagnostics: SubjectDiagnostic[];
  summary: DatasetSummary;
  errors: number;
  warnings: number;
}

/** Validates a parsed subject file (see parseSubject) and its dataset. */
export async function validateSubject(
  file: string,
  parsed: ParsedSubject,
  ctx: DatasetContext,
  onDatasetFailure?: (e: Error) => void,
): Promise<SubjectValidation> {
  // The dataset is checked whenever the YAML parsed (checkDataset gives nothing otherwise), schema errors
  // or not: a typo in one field should not hide a missing folder in another.
  let dataset: Awaited<ReturnType<typeof checkDataset>> = {
    diagnostics: [],
    summary: { images: new Map(), checks: new Map() },
  };
  try {
    dataset = await checkDataset(file, parsed, ctx);
  } catch (e) {
    onDatasetFailure?.(e as Error);
  }
  const diagnostics = [...parsed.diagnostics, ...dataset.diagnostics];
  return {
    parsed,
    diagnostics,
    summary: dataset.summary,
    errors: diagnostics.filter((d) => d.severity === 'error').length,
    warnings: diagnostics.filter((d) => d.severity === 'warning').length,
  };
}

/** Which images the subject file labels: its photos are positives, its negative pools negatives. */
export function imageLabels(summary: DatasetSummary): Map<string, 'positive' | 'negative'> {
  const labels = new Map<string, 'positive' | 'negative'>();
  for (const [field, files] of summary.images) {
    const label = field.startsWith('images.')
      ? 'positive'
      : field.startsWith('negatives.')
        ? 'negative'
        : null;
    if (label) for (const f of files) labels.set(f, label);
  }
  return labels;
}
