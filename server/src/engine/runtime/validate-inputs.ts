// Checks run-time feeds against a compiled graph's declared inputs before ORT sees them, so that a
// mistake reads "input "x": expected float32 [batch, 4], got float32 [2, 5]" instead of an ORT stack trace.
import type { ValueSpec } from '../graph/serialize';
import { formatShape } from '../graph/shape';
import type { HostTensor } from './host-tensor';

export class InputError extends Error {
  override name = 'InputError';
}

export function validateFeeds(
  specs: readonly ValueSpec[],
  feeds: Record<string, HostTensor>,
  graphName: string,
): void {
  const problems: string[] = [];
  const bound = new Map<string, { size: number; by: string }>();
  for (const spec of specs) {
    const t = feeds[spec.name];
    const expected = `${spec.dtype} ${formatShape(spec.shape)}`;
    if (!t) {
      problems.push(`input "${spec.name}" is missing (expected ${expected})`);
      continue;
    }
    const got = `${t.dtype} ${formatShape(t.shape)}`;
    if (t.dtype !== spec.dtype) {
      problems.push(`input "${spec.name}": expected ${expected}, got ${got} (wrong dtype)`);
      continue;
    }
    if (t.shape.length !== spec.shape.length) {
      problems.push(
        `input "${spec.name}": expected ${expected}, got ${got} (rank ${t.shape.length}, expected ${spec.shape.length})`,
      );
      continue;
    }
    const size = t.shape.reduce((p, d) => p * d, 1);
    if (t.data.length !== size) {
      problems.push(
        `input "${spec.name}": shape ${formatShape(t.shape)} needs ${size} values, the data has ${t.data.length}`,
      );
    }
    spec.shape.forEach((d, i) => {
      const actual = t.shape[i]!;
      if (typeof d === 'number') {
        if (d !== actual)
          problems.push(
            `input "${spec.name}": expected ${expected}, got ${got} (dim ${i} is ${actual}, expected ${d})`,
          );
      } else {
        const prev = bound.get(d);
        if (prev && prev.size !== actual) {
          problems.push(
            `input "${spec.name}": dim ${i} ("${d}") is ${actual}, but ${prev.by} set "${d}" to ${prev.size}`,
          );
        } else if (!prev) bound.set(d, { size: actual, by: `input "${spec.name}"` });
      }
    });
  }
  const known = new Set(specs.map((s) => s.name));
  for (const name of Object.keys(feeds)) {
    if (!known.has(name))
      problems.push(`input "${name}" is not an input of this graph (inputs: ${[...known].join(', ')})`);
  }
  if (problems.length) throw new InputError(`${graphName}: ${problems.join('; ')}`);
}
