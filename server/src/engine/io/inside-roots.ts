// Whether a path lies inside the workspace's folders, as the file system resolves it: "../.." and symlinks
// that lead out are outside, whatever the path's text says. A path that does not exist yet (a folder a
// quick fix would create) is judged by its nearest existing ancestor.
import { realpathSync } from 'node:fs';
import path from 'node:path';

/** The real path of `p`, resolving symlinks as far up as something exists. */
export function realPathSoFar(p: string): string {
  const abs = path.resolve(p);
  const rest: string[] = [];
  let at = abs;
  for (;;) {
    try {
      return path.join(realpathSync(at), ...rest.reverse());
    } catch {
      const up = path.dirname(at);
      if (up === at) return abs;
      rest.push(path.basename(at));
      at = up;
    }
  }
}

/** Whether `file` is one of `roots` or lies under one of them (both resolved through symlinks). */
export function insideRoots(file: string, roots: readonly string[]): boolean {
  const real = realPathSoFar(file);
  return roots.some((r) => {
    const rel = path.relative(realPathSoFar(r), real);
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  });
}
