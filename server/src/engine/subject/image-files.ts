// Image lists from a subject's sources (folders or simple globs relative to the subject file), and
// content hashes that key every cache.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { FILE_CAPS, readRegularFileSync } from '../io/regular-file';

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

/** A glob that walks more entries than this is refused: "/usr/**" would hold up whoever asked. */
const MAX_GLOB_ENTRIES = 20_000;

function specialKind(st: {
  isFIFO(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isSocket(): boolean;
}): string {
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'a special file';
}

function walk(
  dir: string,
  depth: number,
  out: string[],
  seen: Set<string>,
  budget: { entries: number },
): void {
  if (depth < 0 || budget.entries < 0) return;
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
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return; // unreadable: nothing to find there
  }
  for (const name of names) {
    if (--budget.entries < 0) return;
    const p = path.join(dir, name);
    let entry;
    try {
      entry = statSync(p);
    } catch {
      continue;
    }
    if (entry.isDirectory()) walk(p, depth - 1, out, seen, budget);
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
      const budget = { entries: MAX_GLOB_ENTRIES };
      walk(root, 8, files, new Set(), budget);
      if (budget.entries < 0)
        throw new DatasetError(
          `${field}: "${src}" walks more than ${MAX_GLOB_ENTRIES} entries under ${root}; name a smaller folder`,
          field,
        );
      for (const f of files) if (re.test(f) && isImage(f)) out.add(f);
    } else {
      const p = path.resolve(baseDir, src);
      if (!existsSync(p)) throw new DatasetError(`${field}: folder "${src}" not found`, field);
      let st;
      let names: string[];
      try {
        st = statSync(p);
        names = st.isDirectory() ? readdirSync(p).sort() : [];
      } catch (e) {
        throw new DatasetError(
          `${field}: cannot read "${src}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
          field,
        );
      }
      if (st.isFile()) {
        if (!isImage(p)) throw new DatasetError(`${field}: "${src}" is not an image file`, field);
        out.add(p);
      } else if (!st.isDirectory()) {
        // /dev/null, a FIFO, a socket: neither a folder of photos nor a photo.
        throw new DatasetError(`${field}: "${src}" is ${specialKind(st)}, not a folder or a photo`, field);
      } else {
        for (const name of names) {
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
  const hash = createHash('sha256')
    .update(readRegularFileSync(file, 'a photo', FILE_CAPS.image))
    .digest('hex');
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
