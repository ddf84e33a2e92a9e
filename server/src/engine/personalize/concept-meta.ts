// concept.json as read back from disk, where anyone may have edited it: every field is checked against
// the shape and bounds that saveConcept writes before anything uses it. A `k` of 1e9 would allocate
// without end, a weightsFile of "../../x.safetensors" would read outside the artifact folder, a garbage
// createdAt would print "trained NaN days ago". Each becomes one ConceptError that says what is wrong.
import path from 'node:path';
import { FILE_CAPS, FileKindError, readRegularTextSync } from '../io/regular-file';
import type { ConceptMeta } from './concept';

export class ConceptError extends Error {
  override name = 'ConceptError';
}

/** The most latent tokens a subject file may ask for (schemas/subject.schema.json, training.k). */
const MAX_CONCEPT_K = 64;

/** The only names saveConcept gives weights: content-named, inside the artifact folder. */
const WEIGHTS_FILE = /^concept-[0-9a-f]{16}\.safetensors$/;
const HEAD_ROWS = ['all', 'name'] as const;
const INITS = ['vocab-mean', 'image-mean', 'reference-photo'] as const;

type Json = Record<string, unknown>;

/**
 * The validated meta of `text` (the content of `file`). `expectedName`, when given, is the subject's name:
 * an artifact of another name in this folder is refused.
 */
export function parseConceptMeta(text: string, file: string, expectedName?: string): ConceptMeta {
  const bad = (why: string): ConceptError => new ConceptError(`${file}: this concept cannot be used: ${why}`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw bad(`not valid JSON (${(e as Error).message})`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw bad('not a JSON object');
  const m = raw as Json;
  const str = (key: string, max = 4096): string => {
    const v = m[key];
    if (typeof v !== 'string') throw bad(`"${key}" is missing or not a string`);
    if (v.length > max) throw bad(`"${key}" is longer than ${max} characters`);
    return v;
  };
  const int = (key: string, min: number, max: number): number => {
    const v = m[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      throw bad(
        `"${key}" must be a whole number from ${min} to ${max} (it is ${JSON.stringify(v) ?? 'missing'})`,
      );
    return v;
  };
  const oneOf = <T extends string>(key: string, values: readonly T[]): T => {
    const v = m[key];
    if (!values.includes(v as T)) throw bad(`"${key}" must be one of ${values.join(', ')}`);
    return v as T;
  };

  if (m['format'] !== 'yollava-concept/1') throw bad(`"format" is not "yollava-concept/1"`);
  const name = str('name', 200);
  if (expectedName !== undefined && name !== expectedName)
    throw bad(`it was trained for "${name}", and this subject is "${expectedName}"`);
  const k = int('k', 0, MAX_CONCEPT_K);
  const tokens = m['tokens'];
  const want = [`<${name}>`, ...Array.from({ length: k }, (_, i) => `<token${i}>`)];
  if (!Array.isArray(tokens) || tokens.length !== k + 1 || tokens.some((t, i) => t !== want[i]))
    throw bad(`"tokens" must be <${name}> then <token0>…<token${k - 1}> (k = ${k})`);
  const headRows = oneOf('headRows', HEAD_ROWS);
  const init = oneOf('init', INITS);
  const base = m['baseModel'] as Json | undefined;
  if (
    !base ||
    typeof base !== 'object' ||
    typeof base['fingerprint'] !== 'string' ||
    typeof base['dir'] !== 'string'
  )
    throw bad(`"baseModel" must hold "fingerprint" and "dir" strings`);
  const dataHash = str('dataHash', 128);
  const used = m['usedImages'];
  if (!Array.isArray(used) || used.length > 1_000_000 || used.some((h) => typeof h !== 'string'))
    throw bad(`"usedImages" must be a list of content hashes`);
  const weightsFile = str('weightsFile', 200);
  // Its own folder only: "../../outside/x.safetensors" or an absolute path are never followed.
  if (!WEIGHTS_FILE.test(weightsFile) || path.basename(weightsFile) !== weightsFile)
    throw bad(
      `"weightsFile" must be a file name of the form concept-<16 hex digits>.safetensors in its own folder`,
    );
  const weightsSha256 = str('weightsSha256', 64);
  if (!/^[0-9a-f]{64}$/.test(weightsSha256)) throw bad(`"weightsSha256" is not a sha256 in hex`);
  const threshold = m['threshold'];
  if (typeof threshold !== 'number' || !Number.isFinite(threshold) || Math.abs(threshold) > 1e6)
    throw bad(`"threshold" must be a finite number`);
  const bestEpoch = int('bestEpoch', 0, 1_000_000);
  const metrics = m['metrics'];
  if (!metrics || typeof metrics !== 'object' || Array.isArray(metrics))
    throw bad(`"metrics" must be an object`);
  for (const [key, v] of Object.entries(metrics as Json)) {
    const ok = (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && v.length <= 4096);
    if (!ok) throw bad(`metrics."${key}" must be a finite number or a short string`);
  }
  const createdAt = str('createdAt', 64);
  const when = Date.parse(createdAt);
  if (!Number.isFinite(when)) throw bad(`"createdAt" is not a date (${JSON.stringify(createdAt)})`);
  const selfDescription = m['selfDescription'];
  if (selfDescription !== undefined && (typeof selfDescription !== 'string' || selfDescription.length > 4096))
    throw bad(`"selfDescription" must be a short string`);
  return {
    format: 'yollava-concept/1',
    name,
    tokens: want,
    k,
    headRows,
    init,
    baseModel: { fingerprint: base['fingerprint'] as string, dir: base['dir'] as string },
    dataHash,
    usedImages: used as string[],
    weightsFile,
    weightsSha256,
    threshold,
    ...(typeof selfDescription === 'string' ? { selfDescription } : {}),
    bestEpoch,
    metrics: metrics as ConceptMeta['metrics'],
    createdAt,
  };
}

/**
 * The validated concept.json of artifact folder `dir`, or null when there is none. Read with a size cap
 * and only as a regular file: the editor's CodeLens calls this on every request.
 */
export function readConceptMeta(dir: string, expectedName?: string): ConceptMeta | null {
  const file = path.join(dir, 'concept.json');
  let text: string;
  try {
    text = readRegularTextSync(file, 'concept.json', FILE_CAPS.conceptMeta);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    if (e instanceof FileKindError)
      throw new ConceptError(`${file}: this concept cannot be used: ${e.message.slice(e.file.length + 2)}`);
    throw new ConceptError(`${file}: this concept cannot be used: ${(e as Error).message}`);
  }
  return parseConceptMeta(text, file, expectedName);
}
