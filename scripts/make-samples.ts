// Regenerates samples/: a ready workspace with one subject (<bo>, a striped red mug with a bow), its
// train and test photos, and a small negative pool. Drawn by ToyWorld, deterministic.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { writeSubjectWorkspace } from '../server/src/engine/toyworld/workspace';

async function main(): Promise<void> {
  const samples = path.join(__dirname, '..', 'samples');
  rmSync(path.join(samples, 'bo'), { recursive: true, force: true });
  rmSync(path.join(samples, 'negatives'), { recursive: true, force: true });
  await writeSubjectWorkspace(samples, {
    name: 'bo',
    object: { kind: 'mug', color: 'red', pattern: 'stripes', accessory: 'bow' },
    train: 5,
    test: 3,
    negatives: 24,
    hard: 8,
    random: 8,
    size: 128,
    seed: 2024,
  });
}

void main();
