// Image lists from a subject's sources (folders or simple globs relative to the subject file), and
// content hashes that key every cache.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export const IMAGE_EXTENSIONS = new Set([
  '.jpg',
  '.jpeg',
  '.png',
  '.webp',
  '.gif',
  '.tif',
  '.tiff',
  '.avif',
  '.bmp',
]);

export class DatasetError extends Error {
  override name = 'DatasetError';
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

function isImage(file: string): boolean {
  return IMAGE_EXTENSIONS.has(path.extname(file).toLowerCase());
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        re += '.*';
        i++;
        if (glob[i + 1] === '/') i++;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function walk(dir: string, depth: number, out: string[], seen: Set<string>): void {
  if (depth < 0) return;
  let st;
  try {
    st = statSync(dir);
  } catch {
    return;
  }
  if (!st.isDirectory()) return;
  const key = `${st.dev}:${st.ino}`;
  if (seen.has(key)) return; // symlink loops
  seen.add(key);
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    let entry;
    try {
      entry = statSync(p);
    } catch {
      continue;
    }
    if (entry.isDirectory()) walk(p, depth - 1, out, seen);
    else if (entry.isFile()) out.push(p);
  }
}

/** Image files named by `sources` (folders: their direct images; globs: matches), sorted and unique. */
export function resolveImages(
  baseDir: string,
  sources: string | string[] | undefined,
  field: string,
): string[] {
  const list = sources === undefined ? [] : Array.isArray(sources) ? sources : [sources];
  const out = new Set<string>();
  for (const src of list) {
    if (/[*?]/.test(src)) {
      const firstWild = src.search(/[*?]/);
      const root = path.resolve(baseDir, src.slice(0, src.lastIndexOf('/', firstWild) + 1) || '.');
      const re = globToRegExp(path.resolve(baseDir, src));
      const files: string[] = [];
      walk(root, 8, files, new Set());
      for (const f of files) if (re.test(f) && isImage(f)) out.add(f);
    } else {
      const p = path.resolve(baseDir, src);
      if (!existsSync(p)) throw new DatasetError(`${field}: folder "${src}" not found`, field);
      const st = statSync(p);
      if (st.isFile()) {
        if (!isImage(p)) throw new DatasetError(`${field}: "${src}" is not an image file`, field);
        out.add(p);
      } else {
        for (const name of readdirSync(p).sort()) {
          const f = path.join(p, name);
          // Dangling links and entries that vanish meanwhile are not photos: skip them.
          if (isImage(f) && isFileOrFalse(f)) out.add(f);
        }
      }
    }
  }
  return [...out].sort();
}

const hashCache = new Map<string, { mtimeMs: number; size: number; hash: string }>();

/** sha256 of the file's bytes (memoized by path, mtime and size). */
export function contentHash(file: string): string {
  const st = statSync(file);
  const hit = hashCache.get(file);
  if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.hash;
  const hash = createHash('sha256').update(readFileSync(file)).digest('hex');
  hashCache.set(file, { mtimeMs: st.mtimeMs, size: st.size, hash });
  return hash;
}

function isFileOrFalse(f: string): boolean {
  try {
    return statSync(f).isFile();
  } catch {
    return false;
  }
}
