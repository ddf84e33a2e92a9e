// Every path a subject file names (photo folders, pools, the model folder), with where it stands in the
// text: document links, folder watching and the workspace checks all start from here.
import path from 'node:path';
import type { ParsedSubject } from './subject-file';

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
