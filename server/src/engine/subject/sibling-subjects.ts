// The other subject files of a workspace: name collisions are checked against them (validate, training),
// and evaluation takes their photos as negatives. The walk is bounded in depth and in entries, because a
// subject file in /tmp or $HOME would otherwise walk whatever lies beside it.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { FILE_CAPS, readRegularTextSync } from '../io/regular-file';
import { parseSubject } from './subject-file';

/** Entries visited at most: a workspace of subjects holds far fewer; a home folder far more. */
const MAX_SIBLING_ENTRIES = 5_000;

/** Subject files in the workspace (the subject's parent folder, two levels down), other than `file`. */
export function otherSubjectFiles(file: string): string[] {
  const root = path.dirname(path.dirname(path.resolve(file)));
  const out: string[] = [];
  let budget = MAX_SIBLING_ENTRIES;
  const walk = (dir: string, depth: number): void => {
    if (depth < 0 || budget < 0) return;
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return; // missing or unreadable: nothing to find there
    }
    for (const n of names) {
      if (--budget < 0) return;
      if (n.startsWith('.') || n === 'node_modules') continue;
      const p = path.join(dir, n);
      // A dangling link or an entry that vanished is skipped: it cannot be another subject file.
      const st = statOrNull(p);
      if (!st) continue;
      if (st.isDirectory()) walk(p, depth - 1);
      else if (st.isFile() && /\.subject\.ya?ml$/.test(n) && p !== path.resolve(file)) out.push(p);
    }
  };
  walk(root, 2);
  return out.sort();
}

/** The name each readable sibling subject file declares (special or oversized files declare none). */
export function siblingNames(file: string): Map<string, string[]> {
  const names = new Map<string, string[]>();
  for (const other of otherSubjectFiles(file)) {
    let text: string;
    try {
      text = readRegularTextSync(other, 'a subject file', FILE_CAPS.subject);
    } catch {
      continue;
    }
    const v = parseSubject(text).value;
    if (v && typeof v.name === 'string') names.set(v.name, [...(names.get(v.name) ?? []), other]);
  }
  return names;
}

function statOrNull(p: string): ReturnType<typeof statSync> | null {
  try {
    return statSync(p);
  } catch {
    return null;
  }
}
