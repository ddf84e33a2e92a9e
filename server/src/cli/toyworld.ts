// `yollava toyworld subject --seed N --out DIR`: writes a fresh ToyWorld subject (see
// engine/toyworld/workspace.ts), the same for the same seed.
import path from 'node:path';
import { LlavaTokenizer } from '../engine';
import { defaultModelDir } from '../engine';
import { writeToyworldSubject } from '../engine';
import { describe, KIND_NAMES, type Kind } from '../engine';

const HELP = `yollava toyworld subject --seed N --out DIR [--name NAME] [--kind KIND]

Writes a fresh subject: a unique ToyWorld object with 10 training and 10 test photos, its .subject.yaml,
truth.json (its attributes), <name>.qa.json (two-option visual and text-only QA), a negative pool
(negatives/) and held-out look-alikes (lookalikes/). The same seed gives the same files.
Kinds: ${KIND_NAMES.join(', ')}
`;

export async function runToyworldCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'subject') {
    process.stdout.write(HELP);
    return sub === undefined || sub === '--help' ? 0 : 2;
  }
  const opt: Record<string, string> = {};
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--help') {
      process.stdout.write(HELP);
      return 0;
    }
    const v = rest[i + 1];
    if (!a.startsWith('--') || v === undefined)
      throw new Error(`toyworld subject: unexpected argument ${a}\n\n${HELP}`);
    opt[a.slice(2)] = v;
    i++;
  }
  const seed = Number(opt['seed']);
  if (!Number.isInteger(seed) || seed < 0)
    throw new Error(`toyworld subject: --seed must be a whole number ≥ 0\n\n${HELP}`);
  if (!opt['out']) throw new Error(`toyworld subject: --out DIR is required\n\n${HELP}`);
  const kind = opt['kind'] as Kind | undefined;
  if (kind && !KIND_NAMES.includes(kind))
    throw new Error(`toyworld subject: --kind must be one of ${KIND_NAMES.join(', ')}`);
  const model = defaultModelDir();
  const tok = model ? LlavaTokenizer.load(model) : undefined;
  const s = await writeToyworldSubject({
    seed,
    out: path.resolve(opt['out']),
    name: opt['name'],
    kind,
    isVocabularyWord: tok ? (w) => tok.hasToken(w) : undefined,
  });
  process.stdout.write(`${s.file}\n<${s.name}> is ${describe(s.object)}\n`);
  return 0;
}
