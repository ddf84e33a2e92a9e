// The subject files of the workspace: their names, for name-collision checks, and the negative pools they
// use, which a new subject is offered. Open documents win over what is on disk.
import { readdir } from 'node:fs/promises';
import { FILE_CAPS, readRegularFile } from '../engine';
import path from 'node:path';
import type { ParsedSubject } from '../engine';

export class SubjectIndex {
  private readonly names = new Map<string, string>();
  /** Each subject file's negatives.pools, resolved against its folder. */
  private readonly pools = new Map<string, string[]>();

  /** `parse` reads a subject file's text (off the message loop in the server). */
  constructor(private readonly parse: (text: string) => Promise<Pick<ParsedSubject, 'value'>>) {}

  /** Scans folders for *.subject.yaml (skipping dot folders and node_modules, a few levels deep). */
  async scan(roots: string[], depth = 4): Promise<void> {
    const walk = async (dir: string, d: number): Promise<void> => {
      if (d < 0) return;
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        if (e.name.startsWith('.') || e.name === 'node_modules') continue;
        const p = path.join(dir, e.name);
        if (e.isDirectory()) await walk(p, d - 1);
        else if (e.isFile() && /\.subject\.ya?ml$/.test(e.name)) {
          try {
            await this.update(
              p,
              (await readRegularFile(p, 'a subject file', FILE_CAPS.subject)).toString('utf8'),
            );
          } catch {
            // unreadable files simply have no name
          }
        }
      }
    };
    for (const r of roots) await walk(r, depth);
  }

  /** Records the file's name; true when it changed (other subjects' collision checks then change too). */
  async update(file: string, text: string): Promise<boolean> {
    return this.record(file, (await this.parse(text)).value);
  }

  /** Records what a parse found (undefined: nothing usable); true when the name changed. */
  record(file: string, value: Pick<ParsedSubject, 'value'>['value']): boolean {
    const key = path.resolve(file);
    const before = this.names.get(key);
    const name: unknown = value?.name;
    if (typeof name === 'string') this.names.set(key, name);
    else this.names.delete(key);
    const pools: unknown = value?.negatives?.pools;
    if (Array.isArray(pools))
      this.pools.set(
        key,
        pools
          .filter((p): p is string => typeof p === 'string')
          .map((p) => path.resolve(path.dirname(key), p)),
      );
    else this.pools.delete(key);
    return before !== this.names.get(key);
  }

  remove(file: string): void {
    this.names.delete(path.resolve(file));
    this.pools.delete(path.resolve(file));
  }

  /** The negative pools the workspace's subjects use: folder → the subject files that name it. */
  negativePools(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const [f, folders] of this.pools) for (const d of folders) out.set(d, [...(out.get(d) ?? []), f]);
    return out;
  }

  /** name → files that use it */
  byName(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const [f, n] of this.names) out.set(n, [...(out.get(n) ?? []), f]);
    return out;
  }
}
