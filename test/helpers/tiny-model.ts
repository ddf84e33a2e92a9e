// The tiny LLaVA the personalization tests train on: 32 px images (16 tokens), a 512-word vocabulary
// that covers the recognition templates, random weights.
import { writeTinyLlava, writeTinyTokenizer } from '../../server/src/engine/models/llava/random-checkpoint';
import { templateWords } from '../../server/src/engine/personalize/templates';

export const RED_MUG = { kind: 'mug', color: 'red', pattern: 'striped', accessory: 'none' } as const;

export function writeTinyPersonalizationModel(dir: string, seed = 3): void {
  writeTinyLlava(dir, { vision: { imageSize: 32, patchSize: 8 }, text: { vocab: 512 }, seed });
  writeTinyTokenizer(dir, 512, templateWords());
}
