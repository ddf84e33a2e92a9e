// Regenerates samples/bo: a ready workspace with one subject (<bo>, a ToyWorld dog), its train and test
// photos, a negative pool, held-out look-alikes, ground truth and two-option QA. Deterministic.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { writeToyworldSubject } from '../server/src/engine/toyworld/workspace';

export const BO_SEED = 2050;

async function main(): Promise<void> {
  const out = path.join(__dirname, '..', 'samples', 'bo');
  rmSync(out, { recursive: true, force: true });
  rmSync(path.join(__dirname, '..', 'samples', 'negatives'), { recursive: true, force: true });
  const s = await writeToyworldSubject({ seed: BO_SEED, out, name: 'bo', kind: 'dog' });
  process.stdout.write(`${s.file}: <bo> is ${JSON.stringify(s.object)}\n`);
}

void main();
