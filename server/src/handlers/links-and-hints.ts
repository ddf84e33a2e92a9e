// Document links on folder and image paths, and inlay hints with image counts.
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { ParsedSubject, PathSpan } from '../engine';

export function linkTargets(spans: PathSpan[]): { start: number; end: number; target: string }[] {
  return spans
    .filter((s) => existsSync(s.target))
    .map((s) => ({ start: s.start, end: s.end, target: pathToFileURL(s.target).toString() }));
}

/** " 5 images" after each image-folder value. */
export function imageCountHints(
  parsed: ParsedSubject,
  images: Map<string, string[]>,
): { offset: number; label: string }[] {
  const out: { offset: number; label: string }[] = [];
  for (const [field, files] of images) {
    const p = field.split('.').map((x) => (/^\d+$/.test(x) ? Number(x) : x));
    const r = parsed.rangeOf(p);
    out.push({ offset: r.end, label: ` ${files.length} image${files.length === 1 ? '' : 's'}` });
  }
  return out;
}
