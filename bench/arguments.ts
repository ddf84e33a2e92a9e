// Reading a benchmark's command-line options. A bad option is the user's mistake, not a crash: it is
// thrown as a UsageError, which bench/index.ts prints as one line and exits 2, with no stack trace.

export class UsageError extends Error {
  override name = 'UsageError';
}

/** The value after `flag`, or undefined when the flag is absent; a flag with nothing after it is an error. */
export function optionValue(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
  return v;
}

/** `--seeds A..B`: whole numbers, A ≤ B; `fallback` when the flag is absent. */
export function seedRange(args: string[], fallback: [number, number]): [number, number] {
  const text = optionValue(args, '--seeds');
  if (text === undefined) return fallback;
  const m = /^(\d+)\.\.(\d+)$/.exec(text);
  if (!m || Number(m[1]) > Number(m[2]))
    throw new UsageError(`--seeds ${text}: expected A..B with whole numbers A ≤ B, e.g. 7000..7009`);
  return [Number(m[1]), Number(m[2])];
}

/** A positive whole number after `flag`, or `fallback` when the flag is absent. */
export function positiveInteger(args: string[], flag: string, fallback: number): number {
  const text = optionValue(args, flag);
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < 1)
    throw new UsageError(`${flag} ${text}: expected a whole number of at least 1`);
  return Number(text);
}

/** The recipe settings `--recipe` may override, and how each is read. */
const RECIPE_KEYS = ['batchSize', 'learningRate', 'epochs', 'weightDecay'] as const;
export type RecipeOverrides = Partial<Record<(typeof RECIPE_KEYS)[number], number>>;

/** `--recipe batchSize=16,learningRate=0.004`: training settings that replace the recipe's for a trial. */
export function recipeOverrides(args: string[]): RecipeOverrides {
  const text = optionValue(args, '--recipe');
  if (text === undefined) return {};
  const out: RecipeOverrides = {};
  for (const part of text.split(',')) {
    const [key, value] = part.split('=');
    if (
      !(RECIPE_KEYS as readonly string[]).includes(key ?? '') ||
      value === undefined ||
      !Number.isFinite(Number(value)) ||
      Number(value) <= 0
    )
      throw new UsageError(
        `--recipe ${part}: expected key=positive number with key one of ${RECIPE_KEYS.join(', ')}`,
      );
    out[key as (typeof RECIPE_KEYS)[number]] = Number(value);
  }
  return out;
}
