// Writes a ready subject workspace: <name>.subject.yaml, train/test photos of one ToyWorld object, a pool
// of negatives (other objects, some of them near-misses of the subject), and optionally other subjects.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Rng } from '../util/rng';
import { randomObject, randomScene, renderScene, type ObjectSpec } from './scenes';

export interface WorkspaceSpec {
  name: string;
  object: ObjectSpec;
  train: number;
  test: number;
  negatives: number;
  /** Relative path of the model folder written into the subject file. */
  model?: string;
  size?: number;
  seed?: number;
  /** negatives.hard / negatives.random in the subject file (defaults: not written, i.e. 100 each). */
  hard?: number;
  random?: number;
  extraYaml?: string;
}

export async function writeSubjectWorkspace(dir: string, spec: WorkspaceSpec): Promise<string> {
  const rng = new Rng(spec.seed ?? 1);
  const size = spec.size ?? 64;
  const subjectDir = path.join(dir, spec.name);
  const write = async (folder: string, i: number, obj: ObjectSpec): Promise<void> => {
    mkdirSync(folder, { recursive: true });
    writeFileSync(
      path.join(folder, `${String(i).padStart(3, '0')}.png`),
      await renderScene(randomScene(obj, rng), size),
    );
  };
  for (let i = 0; i < spec.train; i++) await write(path.join(subjectDir, 'photos', 'train'), i, spec.object);
  for (let i = 0; i < spec.test; i++) await write(path.join(subjectDir, 'photos', 'test'), i, spec.object);
  for (let i = 0; i < spec.negatives; i++) {
    // A third of the pool are near-misses: the subject's kind with another colour or pattern.
    let obj = randomObject(rng);
    if (i % 3 === 0) obj = { ...spec.object, color: obj.color === spec.object.color ? 'black' : obj.color };
    if (
      obj.kind === spec.object.kind &&
      obj.color === spec.object.color &&
      obj.pattern === spec.object.pattern
    )
      obj = { ...obj, pattern: obj.pattern === 'plain' ? 'dots' : 'plain' };
    await write(path.join(dir, 'negatives'), i, obj);
  }
  const file = path.join(subjectDir, `${spec.name}.subject.yaml`);
  writeFileSync(
    file,
    [
      `name: ${spec.name}`,
      'category: object',
      `description: a ${spec.object.color} ${spec.object.pattern} ${spec.object.kind}${spec.object.accessory !== 'none' ? ` with a ${spec.object.accessory}` : ''}`,
      'images:',
      '  train: photos/train',
      ...(spec.test ? ['  test: photos/test'] : []),
      'negatives:',
      '  pools: [../negatives]',
      ...(spec.hard !== undefined ? [`  hard: ${spec.hard}`] : []),
      ...(spec.random !== undefined ? [`  random: ${spec.random}`] : []),
      ...(spec.model ? [`model: ${spec.model}`] : []),
      spec.extraYaml ?? '',
    ].join('\n'),
  );
  return file;
}
