// The default model's vocabulary: every word the ToyWorld skills and the personalization templates can
// say, found by drawing many samples from each generator, plus a few words a user is likely to type.
import { templateWords } from '../personalize/templates';
import { Rng } from '../util/rng';
import { SKILLS, skillSample } from './skills';
import { COLOR_NAMES, KIND_NAMES } from './world';

/** Splits like the tokenizer's Whitespace pre-tokenizer: runs of word characters, runs of punctuation. */
export function pretokenize(text: string): string[] {
  return text.match(/\w+|[^\w\s]+/g) ?? [];
}

const EXTRA =
  'USER ASSISTANT : yes no Yes No I you he she they we it my your his her their what which who where when why how ' +
  'is are was be do does can could would should will not and or but with without of in on at to from for ' +
  'this that these those there here a an the one two three four some many color colour colors kind name ' +
  'look looks like photo picture image describe tell me about please thanks hello hi ? . , ! \' " ( ) -';

export function toyworldVocabulary(samplesPerSkill = 3000): string[] {
  const words = new Set<string>();
  const add = (s: string): void => {
    for (const w of pretokenize(s.replace(/<name>|<image>|<subject>/g, ' '))) words.add(w);
  };
  const rng = new Rng(20261129);
  for (const skill of SKILLS) {
    for (let i = 0; i < samplesPerSkill; i++) {
      const s = skillSample(skill, rng);
      add(s.user);
      add(s.answer);
    }
  }
  for (const w of templateWords()) add(w);
  for (const w of [...COLOR_NAMES, ...KIND_NAMES]) {
    add(w);
    add(w[0]!.toUpperCase() + w.slice(1));
  }
  add(EXTRA);
  return [...words].sort();
}
