// The subject's name: unique in the workspace, and neither a word or token of the model nor a latent
// token's name.
import path from 'node:path';
import type { RuleRun } from './rule';

export function checkName(run: RuleRun): void {
  const { file, dir, ctx, diag } = run;
  const v = run.value;
  if (typeof v.name === 'string') {
    const others = ctx.otherNames.get(v.name)?.filter((f) => path.resolve(f) !== path.resolve(file)) ?? [];
    if (others.length) {
      diag(
        ['name'],
        'error',
        'name-collision',
        `name: "${v.name}" is also the name in ${others.map((o) => path.relative(dir, o)).join(', ')}; names must be unique`,
        { suggestion: uniqueName(v.name, ctx.otherNames) },
      );
    }
    const reserved = reservedNameProblem(v.name, ctx.isVocabularyWord);
    if (reserved) {
      diag(['name'], 'error', 'name-in-vocabulary', `name: ${reserved}`, {
        suggestion: uniqueName(v.name, ctx.otherNames),
      });
    }
  }
}

export function uniqueName(name: string, taken: Map<string, string[]>): string {
  for (let i = 2; ; i++) if (!taken.has(`${name}${i}`)) return `${name}${i}`;
}

/**
 * Why `name` cannot be a concept's name, or null. "token3" would share an id with the latent token <token3>;
 * "unk" would make <unk>, the tokenizer's own unknown token; "the" is a word the model already knows. Each
 * of them trains without a word and answers wrongly, so they are refused by the editor, `yollava validate`
 * and training alike (`isVocabularyToken` tells the model's tokenizer's tokens, where one is known).
 */
export function reservedNameProblem(
  name: string,
  isVocabularyToken?: (token: string) => boolean,
): string | null {
  if (/^token\d+$/i.test(name))
    return `"${name}" is the name of one of the concept's own latent tokens (<token0>, <token1>, …); pick another`;
  if (isVocabularyToken?.(name))
    return `"${name}" is already a word in the model's vocabulary; the model would confuse it with that word`;
  if (isVocabularyToken?.(`<${name}>`))
    return `"<${name}>" is already a token of the model's tokenizer; the concept would share its id`;
  return null;
}
