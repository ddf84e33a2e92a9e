// Document links on folder and image paths, and inlay hints with image counts.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ParsedSubject } from '../engine';

export interface PathSpan {
  start: number;
  end: number;
  target: string;
  field: string;
}

/** Every path value in the file (images.train/test, negatives.pools, model) with its absolute target. */
export function pathSpans(parsed: ParsedSubject, file: string): PathSpan[] {
  const v = parsed.value;
  if (!v) return [];
  const dir = path.dirname(file);
  const out: PathSpan[] = [];
  const add = (p: (string | number)[], value: unknown, field: string): void => {
    if (typeof value !== 'string' || /[*?]/.test(value)) return;
    const r = parsed.rangeOf(p);
    out.push({ ...r, target: path.resolve(dir, value), field });
  };
  const list = (p: (string | number)[], value: unknown, field: string): void => {
    if (Array.isArray(value)) value.forEach((x, i) => add([...p, i], x, field));
    else add(p, value, field);
  };
  list(['images', 'train'], v.images?.train, 'images.train');
  list(['images', 'test'], v.images?.test, 'images.test');
  (v.negatives?.pools ?? []).forEach((p, i) => add(['negatives', 'pools', i], p, `negatives.pools.${i}`));
  add(['model'], v.model, 'model');
  return out;
}

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
