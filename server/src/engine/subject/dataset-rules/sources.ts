// Each image source the file names (images.train, images.test, negatives.pools) listed into the summary:
// a missing folder or an unreadable source is that field's error, and the other fields go on; a source
// outside the workspace is warned of, and in Restricted Mode not read at all.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { insideRoots, realPathSoFar } from '../../io/inside-roots';
import { DatasetError, resolveImages } from '../image-files';
import type { RuleRun } from './rule';

export async function listSources(run: RuleRun): Promise<void> {
  const { dir, ctx, summary, diag } = run;
  const v = run.value;
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
    // Restricted Mode: a photo inside the workspace may still be a link to a file outside it.
    const kept =
      ctx.readOutside === false && ctx.workspaceRoots?.length
        ? found.filter((f) => insideRoots(f, ctx.workspaceRoots!))
        : found;
    if (kept.length < found.length)
      diag(
        p,
        'warning',
        'outside-workspace',
        `${p.join('.')}: ${found.length - kept.length} photo(s) link outside the workspace (${path.basename(found.find((f) => !kept.includes(f))!)}); not read in Restricted Mode`,
      );
    summary.images.set(p.join('.'), kept);
  }
}
