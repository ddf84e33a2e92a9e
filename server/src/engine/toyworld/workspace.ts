// Writes ToyWorld subjects to disk: a unique object instance's train and test photos, its subject file,
// its ground truth, two-option QA, held-out look-alikes and a negative pool whose hard part shares the
// kind or every nameable attribute. Everything is a function of the seed.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Rng } from '../util/rng';
import { randomScene, renderScene } from './scenes';
import { attributeChoices } from './skills';
import {
  categoryOf,
  describe,
  KIND_NAMES,
  lookalike,
  randomDetails,
  randomInstance,
  sameAttributes,
  type Accessory,
  type Color,
  type Kind,
  type ObjectInstance,
  type Pattern,
} from './world';

/** Nameable attributes only; the fine details come from the workspace's seed. */
export interface ObjectAttributes {
  kind: Kind;
  color: Color;
  pattern: Pattern;
  accessory: Accessory;
  accessoryColor?: Color;
}

export function instanceOf(a: ObjectAttributes, rng: Rng): ObjectInstance {
  return { accessoryColor: 'red', ...a, details: randomDetails(rng) };
}

async function writePhotos(
  folder: string,
  objects: ObjectInstance[],
  rng: Rng,
  size: number,
): Promise<string[]> {
  mkdirSync(folder, { recursive: true });
  const files: string[] = [];
  for (const [i, o] of objects.entries()) {
    const file = path.join(folder, `${String(i).padStart(3, '0')}.png`);
    writeFileSync(file, await renderScene(randomScene(o, rng), size));
    files.push(file);
  }
  return files;
}

function otherInstance(o: ObjectInstance, rng: Rng, sameKind: boolean): ObjectInstance {
  for (;;) {
    const x = randomInstance(rng, sameKind ? o.kind : undefined);
    if (!sameAttributes(x, o) && (sameKind || x.kind !== o.kind)) return x;
  }
}

/**
 * A negative pool of `n` photos: a third of the subject's kind with other attributes, a sixth look-alikes
 * (same nameable attributes, other fine details), the rest unrelated.
 */
function poolObjects(o: ObjectInstance, n: number, rng: Rng): ObjectInstance[] {
  return Array.from({ length: n }, (_, i) =>
    i % 6 < 2 ? otherInstance(o, rng, true) : i % 6 === 2 ? lookalike(o, rng) : otherInstance(o, rng, false),
  );
}

export interface WorkspaceSpec {
  name: string;
  object: ObjectAttributes | ObjectInstance;
  train: number;
  test: number;
  negatives: number;
  /** Relative path of the model folder written into the subject file (none: the default model). */
  model?: string;
  size?: number;
  seed?: number;
  /** negatives.hard / negatives.random in the subject file (defaults: not written, i.e. 100 each). */
  hard?: number;
  random?: number;
  extraYaml?: string;
}

function subjectYaml(spec: WorkspaceSpec, o: ObjectInstance, pool: string, hasTest: boolean): string {
  return [
    `name: ${spec.name}`,
    `category: ${categoryOf(o.kind)}`,
    `description: ${describe(o)}`,
    'images:',
    '  train: photos/train',
    ...(hasTest ? ['  test: photos/test'] : []),
    'negatives:',
    `  pools: [${pool}]`,
    ...(spec.hard !== undefined ? [`  hard: ${spec.hard}`] : []),
    ...(spec.random !== undefined ? [`  random: ${spec.random}`] : []),
    ...(spec.model ? [`model: ${spec.model}`] : []),
    spec.extraYaml ?? '',
  ].join('\n');
}

/** `dir/<name>/` with photos and the subject file, and a shared pool in `dir/negatives`. */
export async function writeSubjectWorkspace(dir: string, spec: WorkspaceSpec): Promise<string> {
  const rng = new Rng(spec.seed ?? 1);
  const size = spec.size ?? 64;
  const o = 'details' in spec.object ? spec.object : instanceOf(spec.object, rng);
  const subjectDir = path.join(dir, spec.name);
  await writePhotos(
    path.join(subjectDir, 'photos', 'train'),
    new Array<ObjectInstance>(spec.train).fill(o),
    rng,
    size,
  );
  if (spec.test)
    await writePhotos(
      path.join(subjectDir, 'photos', 'test'),
      new Array<ObjectInstance>(spec.test).fill(o),
      rng,
      size,
    );
  await writePhotos(path.join(dir, 'negatives'), poolObjects(o, spec.negatives, rng), rng, size);
  const file = path.join(subjectDir, `${spec.name}.subject.yaml`);
  writeFileSync(file, subjectYaml(spec, o, '../negatives', spec.test > 0));
  return file;
}

const CONSONANTS = 'bdfgklmnprstvz';
const VOWELS = 'aeiou';

/** A pronounceable made-up name (consonant-vowel-consonant-vowel) from the seed. */
export function madeUpName(rng: Rng): string {
  const c = (): string => CONSONANTS[rng.int(CONSONANTS.length)]!;
  const v = (): string => VOWELS[rng.int(VOWELS.length)]!;
  return `${c()}${v()}${c()}${v()}`;
}

export interface ToyworldSubjectOptions {
  seed: number;
  out: string;
  name?: string;
  kind?: Kind;
  train?: number;
  test?: number;
  pool?: number;
  lookalikes?: number;
  hard?: number;
  random?: number;
  size?: number;
  /** Made-up names for which this says true are drawn again (a name may not be a vocabulary word). */
  isVocabularyWord?: (word: string) => boolean;
}

export interface ToyworldSubject {
  file: string;
  name: string;
  object: ObjectInstance;
}

/**
 * `yollava toyworld subject`: a fresh subject in `out`: <name>.subject.yaml, photos/train and photos/test,
 * negatives/ (the pool), lookalikes/ (held-out look-alikes, in no pool), truth.json and <name>.qa.json.
 */
export async function writeToyworldSubject(opts: ToyworldSubjectOptions): Promise<ToyworldSubject> {
  const rng = new Rng(opts.seed);
  let name = opts.name ?? madeUpName(rng);
  while (!opts.name && opts.isVocabularyWord?.(name)) name = madeUpName(rng);
  const kind = opts.kind ?? KIND_NAMES[rng.int(KIND_NAMES.length)]!;
  const o = randomInstance(rng, kind);
  const size = opts.size ?? 64;
  const out = opts.out;
  const train = await writePhotos(
    path.join(out, 'photos', 'train'),
    new Array(opts.train ?? 10).fill(o),
    rng,
    size,
  );
  const test = await writePhotos(
    path.join(out, 'photos', 'test'),
    new Array(opts.test ?? 10).fill(o),
    rng,
    size,
  );
  await writePhotos(path.join(out, 'negatives'), poolObjects(o, opts.pool ?? 200, rng), rng, size);
  await writePhotos(
    path.join(out, 'lookalikes'),
    Array.from({ length: opts.lookalikes ?? 10 }, () => lookalike(o, rng)),
    rng,
    size,
  );
  const spec: WorkspaceSpec = {
    name,
    object: o,
    train: train.length,
    test: test.length,
    negatives: 0,
    hard: opts.hard ?? 50,
    random: opts.random ?? 50,
  };
  const file = path.join(out, `${name}.subject.yaml`);
  writeFileSync(file, subjectYaml(spec, o, 'negatives', true));
  writeFileSync(
    path.join(out, 'truth.json'),
    `${JSON.stringify({ name, description: describe(o), category: categoryOf(o.kind), object: o }, null, 2)}\n`,
  );
  const choices = attributeChoices(o, rng);
  const qa = {
    visual: test.slice(0, 5).map((f, i) => {
      const [question, right, wrong] = choices[i % choices.length]!;
      return { question, options: [right, wrong], answer: 0, image: path.relative(out, f) };
    }),
    text: choices.map(([question, right, wrong]) => ({ question, options: [right, wrong], answer: 0 })),
  };
  writeFileSync(path.join(out, `${name}.qa.json`), `${JSON.stringify(qa, null, 2)}\n`);
  return { file, name, object: o };
}
