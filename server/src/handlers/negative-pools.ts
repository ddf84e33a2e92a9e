// The negative pools a new subject is offered ("New Subject from Folder…"): the folders the workspace's
// subjects already use, and the yollava.negativePools setting. A subject without negatives learns only
// "yes", so the command offers these rather than leaving the file without any.
import { opendir } from 'node:fs/promises';
import path from 'node:path';
import type { ServerContext } from '../context';
import { IMAGE_EXTENSIONS } from '../engine';
import { NegativePoolsRequest, type NegativePool } from '../protocol';

/** Counting stops here: the number only tells a big pool from an empty one. */
const MAX_COUNTED = 10_000;

async function countImages(folder: string): Promise<number> {
  let n = 0;
  try {
    const dir = await opendir(folder);
    for await (const e of dir) {
      if (e.isFile() && IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase())) n++;
      if (n >= MAX_COUNTED) break;
    }
  } catch {
    // a folder that is gone or unreadable counts as empty
  }
  return n;
}

export function registerNegativePools(ctx: ServerContext): void {
  ctx.connection.onRequest(NegativePoolsRequest, async (p): Promise<NegativePool[]> => {
    const users = new Map<string, string[]>();
    const names = new Map<string, string>();
    for (const [name, files] of ctx.index.byName()) for (const f of files) names.set(f, name);
    for (const [folder, files] of ctx.index.negativePools())
      users.set(
        folder,
        files.map((f) => names.get(f) ?? path.basename(f)),
      );
    const s = await ctx.settings(p.uri ?? '');
    const root = ctx.roots[0];
    if (root)
      for (const d of s.negativePools) {
        const folder = path.resolve(root, d);
        users.set(folder, [...(users.get(folder) ?? []), 'yollava.negativePools']);
      }
    const pools: NegativePool[] = [];
    // Only what the server may read: in Restricted Mode, folders inside the workspace.
    for (const [folder, usedBy] of users)
      if (ctx.mayTouch(folder)) pools.push({ folder, usedBy, images: await countImages(folder) });
    return pools
      .filter((x) => x.images > 0)
      .sort((a, b) => b.usedBy.length - a.usedBy.length || b.images - a.images);
  });
}
