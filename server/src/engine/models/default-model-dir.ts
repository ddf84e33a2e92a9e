// Where the embedded default model is found: the folder the engine loads whenever no model is named.
import { existsSync } from 'node:fs';
import path from 'node:path';

/** Where the embedded default model lives, relative to the project (or the packaged extension). */
export const DEFAULT_MODEL_RELATIVE = path.join('samples', 'models', 'toy-llava');

/**
 * The embedded default model's folder: $YOLLAVA_DEFAULT_MODEL when set, else samples/models/toy-llava in
 * the first folder above this module (source tree, dist/ bundle or installed extension) that holds one.
 * Undefined when there is none, so callers can say what is missing.
 */
export function defaultModelDir(from = __dirname): string | undefined {
  const env = process.env['YOLLAVA_DEFAULT_MODEL'];
  if (env) return existsSync(path.join(env, 'config.json')) ? path.resolve(env) : undefined;
  let dir = from;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, DEFAULT_MODEL_RELATIVE);
    if (existsSync(path.join(candidate, 'config.json'))) return candidate;
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}
