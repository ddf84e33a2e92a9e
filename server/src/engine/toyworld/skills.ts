// The pretraining mixture: one generator per skill the base model must have for the Yo'LLaVA recipe to
// work through it. Every sample is one user turn and one answer, drawn from a scene's ground truth.
//
// "<name>" in a sample stands for a made-up name. It is not a vocabulary word: the batch gives it a fresh
// random embedding row, exactly as personalization gives <bo> a new row, so the model learns to bind
// whatever token follows "X is …" rather than memorizing names. A "<image>" inside the user text is a
// reference image held in the prompt; `queryImage` puts the photo asked about first, as LLaVA's template
// does.
import {
  conversationQuestions,
  NEGATIVE_ANSWERS,
  POSITIVE_ANSWERS,
  RECOGNITION_QUESTIONS,
  SUBJECT_PHRASES,
} from '../personalize/templates';
import { choicePrompt } from '../personalize/qa';
import type { Rng } from '../util/rng';
import { describedFacts, shownFacts, type Comparison, type SubjectFacts } from './decision-probes';
import { positionWords, randomScene, sizeWord, type SceneSpec } from './scenes';
import {
  categoryOf,
  describe,
  KINDS,
  lookalike,
  oneAttributeOff,
  pick,
  randomInstance,
  sameAttributes,
  type ObjectInstance,
} from './world';

export const SKILLS = [
  'caption',
  'attribute',
  'conversation',
  'presence',
  'count',
  'name_description',
  'name_reading',
  'reference',
  'reference_reading',
  'choice',
] as const;
export type Skill = (typeof SKILLS)[number];

/** How often each skill is drawn. Yes/no recognition through a name carries the most weight. */
export const MIXTURE: Record<Skill, number> = {
  caption: 0.06,
  attribute: 0.09,
  conversation: 0.13,
  presence: 0.04,
  count: 0.03,
  name_description: 0.15,
  name_reading: 0.1,
  reference: 0.22,
  reference_reading: 0.08,
  choice: 0.1,
};

export interface SkillSample {
  skill: Skill;
  /** The photo asked about (first), then the reference images in the order their <image> appears. */
  scenes: SceneSpec[];
  queryImage: boolean;
  user: string;
  answer: string;
  /**
   * For two-way answers (yes/no, option A/B): the first word of the right answer and of the wrong one.
   * They are scored by which of the two the model prefers, so 0.5 is chance.
   */
  contrast?: [string, string];
  /** For two-way answers: what is compared to decide them (training scaffolding, decision-probes.ts). */
  compared?: Comparison;
}

/** Two-option questions about an object: [question, right option, wrong option]; "<name>" names it. */
export function attributeChoices(o: ObjectInstance, rng: Rng): [string, string, string][] {
  return choiceItems(o, rng).map((c) => [c.question, c.right, c.wrong]);
}

interface ChoiceItem {
  question: string;
  right: string;
  wrong: string;
  /** What each option states about the subject, where it is a fact the decision probes know. */
  rightFacts: SubjectFacts;
  wrongFacts: SubjectFacts;
  /** What the subject's side states beyond its attributes, for this question only. */
  subjectFacts?: SubjectFacts;
}

function choiceItems(o: ObjectInstance, rng: Rng): ChoiceItem[] {
  const off = (a: 'kind' | 'color' | 'pattern' | 'accessory'): ObjectInstance => oneAttributeOff(o, rng, a);
  const kindText = (x: ObjectInstance): string => (x.kind === 'person' ? 'A person' : `A ${x.kind}`);
  const patternText = (x: ObjectInstance): string =>
    x.pattern === 'plain' ? 'No pattern' : x.pattern === 'dotted' ? 'Dots' : 'Stripes';
  const wearText = (x: ObjectInstance): string =>
    x.accessory === 'none' ? 'Nothing' : `A ${x.accessoryColor} ${x.accessory}`;
  const materialOf = (x: ObjectInstance): string => cap(KINDS[x.kind].material);
  const wear = (x: ObjectInstance): SubjectFacts => ({
    accessory: x.accessory,
    accessoryColor: x.accessory === 'none' ? undefined : x.accessoryColor,
  });
  let otherMaterial = o;
  while (KINDS[otherMaterial.kind].material === KINDS[o.kind].material) otherMaterial = off('kind');
  const [color, kind, pattern, accessory] = [off('color'), off('kind'), off('pattern'), off('accessory')];
  const items: ChoiceItem[] = [
    {
      question: 'What color is <name>?',
      right: cap(o.color),
      wrong: cap(color.color),
      rightFacts: { color: o.color },
      wrongFacts: { color: color.color },
    },
    {
      question: 'What kind of thing is <name>?',
      right: kindText(o),
      wrong: kindText(kind),
      rightFacts: { kind: o.kind },
      wrongFacts: { kind: kind.kind },
    },
    {
      question: 'What pattern does <name> have?',
      right: patternText(o),
      wrong: patternText(pattern),
      rightFacts: { pattern: o.pattern },
      wrongFacts: { pattern: pattern.pattern },
    },
    {
      question: 'What is <name> wearing?',
      right: wearText(o),
      wrong: wearText(accessory),
      rightFacts: wear(o),
      wrongFacts: wear(accessory),
    },
    {
      question: 'What is <name> made of?',
      right: materialOf(o),
      wrong: materialOf(otherMaterial),
      rightFacts: { material: KINDS[o.kind].material },
      wrongFacts: { material: KINDS[otherMaterial.kind].material },
      // The material follows from the kind: the probes ask for it on both sides, as for any attribute.
      subjectFacts: { material: KINDS[o.kind].material },
    },
  ];
  return items.filter((c) => c.right !== c.wrong);
}

const NUMBER_WORDS = ['Zero', 'One', 'Two', 'Three', 'Four'];

const cap = (s: string): string => s[0]!.toUpperCase() + s.slice(1);

export function drawSkill(rng: Rng, mixture: Partial<Record<Skill, number>> = MIXTURE): Skill {
  const total = SKILLS.reduce((a, s) => a + (mixture[s] ?? 0), 0);
  let u = rng.next() * total;
  let last: Skill = 'reference';
  for (const s of SKILLS) {
    const w = mixture[s] ?? 0;
    if (!w) continue;
    last = s;
    u -= w;
    if (u < 0) return s;
  }
  return last;
}

export function skillSample(skill: Skill, rng: Rng): SkillSample {
  return GENERATORS[skill](rng);
}

/** Answers to the recipe's conversation questions, in the form "<phrase> is yellow." */
export function conversationAnswer(
  question: string,
  o: ObjectInstance,
  s: SceneSpec | null,
  who: string,
): string | null {
  const W = cap(who);
  const next = s?.distractors[0]?.object;
  const answers: [RegExp, () => string | null][] = [
    [/^What color is the hair/, () => `${W} has dark hair.`],
    [/^What color/, () => `${W} is ${o.color}.`],
    [/^What shape/, () => `${W} is shaped like ${o.kind === 'person' ? 'a person' : `a ${o.kind}`}.`],
    [
      /^What pattern/,
      () =>
        o.pattern === 'plain'
          ? `${W} has no pattern.`
          : `${W} has ${o.pattern === 'dotted' ? 'dots' : 'stripes'}.`,
    ],
    [/^How big/, () => (s ? `${W} looks ${sizeWord(s)} in the photo.` : null)],
    [/^What is .* made of/, () => `${W} is made of ${KINDS[o.kind].material}.`],
    [/^Where is/, () => (s ? `${W} is ${positionWords(s)} of the photo.` : null)],
    [/^Describe the face/, () => `${W} has a round face.`],
    [/^Describe/, () => `${W} is ${describe(o)}.`],
    [
      /^What stands out/,
      () =>
        o.accessory !== 'none'
          ? `${W} wears a ${o.accessoryColor} ${o.accessory}.`
          : o.pattern !== 'plain'
            ? `${W} has ${o.color} ${o.pattern === 'dotted' ? 'dots' : 'stripes'}.`
            : `${W} is all ${o.color}.`,
    ],
    [
      /^What is next to/,
      () => (s ? (next ? `${cap(describe(next))} is next to ${who}.` : `Nothing is next to ${who}.`) : null),
    ],
    [/^What does .* look like/, () => `${W} looks like ${describe(o)}.`],
    [
      /^What is .* wearing/,
      () =>
        o.accessory !== 'none'
          ? `${W} wears a ${o.color} shirt and a ${o.accessoryColor} ${o.accessory}.`
          : `${W} wears a ${o.color} shirt.`,
    ],
    [/^What is .* doing/, () => `${W} is standing.`],
    [/^How old/, () => `${W} looks young.`],
    [/^What is the mood/, () => `${W} looks happy.`],
  ];
  for (const [re, f] of answers) if (re.test(question)) return f();
  return null;
}

/** The subject phrase the personalization recipe asks with ("the pet"), for this object's kind. */
export function subjectPhrase(o: ObjectInstance): string {
  return SUBJECT_PHRASES[categoryOf(o.kind)].ask;
}

function askConversation(
  o: ObjectInstance,
  s: SceneSpec | null,
  who: string,
  rng: Rng,
): { question: string; answer: string } {
  const qs = conversationQuestions(categoryOf(o.kind));
  for (;;) {
    const q = pick(rng, qs);
    const answer = conversationAnswer(q.replace(/<subject>/g, who), o, s, who);
    if (answer) return { question: q.replace(/<subject>/g, who), answer };
  }
}

/** A negative for `o`: half differ by one nameable attribute, a quarter are look-alikes, the rest unrelated. */
function negativeOf(o: ObjectInstance, rng: Rng, lookalikeShare: number): ObjectInstance {
  const u = rng.next();
  if (u < lookalikeShare) return lookalike(o, rng);
  if (u < lookalikeShare + 0.5) return oneAttributeOff(o, rng);
  for (;;) {
    const other = randomInstance(rng);
    if (!sameAttributes(other, o)) return other;
  }
}

function yesNo(rng: Rng, yes: boolean): string {
  return yes ? pick(rng, POSITIVE_ANSWERS) : pick(rng, NEGATIVE_ANSWERS);
}

const yesNoContrast = (yes: boolean): [string, string] => (yes ? ['Yes', 'No'] : ['No', 'Yes']);

const GENERATORS: Record<Skill, (rng: Rng) => SkillSample> = {
  caption(rng) {
    const o = randomInstance(rng);
    const s = randomScene(o, rng);
    const q = pick(rng, ['Describe the image.', 'What is in this photo?', 'Write a short caption.']);
    const next = s.distractors.length ? ` next to ${describe(s.distractors[0]!.object)}` : '';
    return {
      skill: 'caption',
      scenes: [s],
      queryImage: true,
      user: q,
      answer: `${cap(describe(o))}${next}.`,
    };
  },
  attribute(rng) {
    const o = randomInstance(rng);
    const s = randomScene(o, rng);
    const k = o.kind;
    const options: [string, string][] = [
      [`What color is the ${k}?`, `${cap(o.color)}.`],
      [`What kind of thing is in the photo?`, `A ${k}.`],
      [
        `What pattern does the ${k} have?`,
        o.pattern === 'plain' ? 'None.' : o.pattern === 'dotted' ? 'Dots.' : 'Stripes.',
      ],
      [
        `What is the ${k} wearing?`,
        o.accessory === 'none' ? 'Nothing.' : `A ${o.accessoryColor} ${o.accessory}.`,
      ],
      [`Where is the ${k}?`, `${cap(positionWords(s))}.`],
      // The one place besides two-option QA where a material is a capitalized one-word answer ("Metal."),
      // so the option's word is grounded in what the photo shows.
      [`What is the ${k} made of?`, `${cap(KINDS[k].material)}.`],
    ];
    const [user, answer] = pick(rng, options);
    return { skill: 'attribute', scenes: [s], queryImage: true, user, answer };
  },
  conversation(rng) {
    const o = randomInstance(rng);
    const s = randomScene(o, rng);
    const who = rng.next() < 0.8 ? subjectPhrase(o) : `the ${o.kind}`;
    const { question, answer } = askConversation(o, s, who, rng);
    return { skill: 'conversation', scenes: [s], queryImage: true, user: question, answer };
  },
  presence(rng) {
    const o = randomInstance(rng);
    const s = randomScene(o, rng);
    const present = new Set([o.kind, ...s.distractors.map((d) => d.object.kind)]);
    const yes = rng.next() < 0.5;
    const kind = yes
      ? pick(rng, [...present])
      : pick(
          rng,
          Object.keys(KINDS).filter((k) => !present.has(k as never)),
        );
    const seen = [s.main, ...s.distractors].find((p) => p.object.kind === kind)?.object ?? o;
    return {
      skill: 'presence',
      scenes: [s],
      queryImage: true,
      user: `Is there ${kind === 'person' ? 'a person' : `a ${kind}`} in this photo?`,
      answer: yes ? 'Yes.' : 'No.',
      contrast: yesNoContrast(yes),
      compared: { subject: { kind: kind as ObjectInstance['kind'] }, candidate: { kind: seen.kind } },
    };
  },
  count(rng) {
    const o = randomInstance(rng);
    const s = randomScene(o, rng);
    return {
      skill: 'count',
      scenes: [s],
      queryImage: true,
      user: 'How many things are in the photo?',
      answer: `${NUMBER_WORDS[1 + s.distractors.length]}.`,
    };
  },
  name_description(rng) {
    const o = randomInstance(rng);
    const yes = rng.next() < 0.5;
    const shown = yes ? o : negativeOf(o, rng, 0);
    const q = pick(rng, RECOGNITION_QUESTIONS);
    return {
      skill: 'name_description',
      scenes: [randomScene(shown, rng)],
      queryImage: true,
      user: `<name> is ${describe(o)}. ${q}`,
      answer: yesNo(rng, yes),
      contrast: yesNoContrast(yes),
      compared: { subject: describedFacts(o), candidate: shownFacts(shown) },
    };
  },
  name_reading(rng) {
    const o = randomInstance(rng);
    const { question, answer } = askConversation(o, null, '<name>', rng);
    return {
      skill: 'name_reading',
      scenes: [],
      queryImage: false,
      user: `<name> is ${describe(o)}. ${question}`,
      answer,
    };
  },
  reference(rng) {
    const o = randomInstance(rng);
    const yes = rng.next() < 0.5;
    // Look-alikes weigh most here: a reference image, unlike a description, can tell them apart.
    const shown = yes ? o : negativeOf(o, rng, 0.5);
    const refs = 1 + rng.int(3);
    const scenes = [randomScene(shown, rng), ...Array.from({ length: refs }, () => randomScene(o, rng))];
    return {
      skill: 'reference',
      scenes,
      queryImage: true,
      user: `<name> is ${'<image>'.repeat(refs)}. ${pick(rng, RECOGNITION_QUESTIONS)}`,
      answer: yesNo(rng, yes),
      contrast: yesNoContrast(yes),
      compared: { subject: shownFacts(o), candidate: shownFacts(shown) },
    };
  },
  reference_reading(rng) {
    const o = randomInstance(rng);
    const refs = 1 + rng.int(2);
    const scenes = Array.from({ length: refs }, () => randomScene(o, rng));
    const { question, answer } = askConversation(o, null, '<name>', rng);
    return {
      skill: 'reference_reading',
      scenes,
      queryImage: false,
      user: `<name> is ${'<image>'.repeat(refs)}. ${question}`,
      answer,
    };
  },
  choice(rng) {
    // Two-option QA as the evaluation asks it: about a photo, or about <name> held by a description or
    // by reference images. Its comparison is the subject against option A: they agree exactly when A is
    // the answer.
    const o = randomInstance(rng);
    const item = pick(rng, choiceItems(o, rng));
    const first = rng.next() < 0.5;
    const prompt = choicePrompt(item.question, first ? [item.right, item.wrong] : [item.wrong, item.right]);
    const contrast: [string, string] = first ? ['A', 'B'] : ['B', 'A'];
    const answer = `${contrast[0]}.`;
    const optionA = first ? item.rightFacts : item.wrongFacts;
    const u = rng.next();
    if (u < 0.35) {
      const s = randomScene(o, rng);
      const who = `the ${o.kind}`;
      return {
        skill: 'choice',
        scenes: [s],
        queryImage: true,
        user: prompt.replace(/<name>/g, who),
        answer,
        contrast,
        compared: { subject: { ...shownFacts(o), ...item.subjectFacts }, candidate: optionA },
      };
    }
    if (u < 0.7)
      return {
        skill: 'choice',
        scenes: [],
        queryImage: false,
        user: `<name> is ${describe(o)}. ${prompt}`,
        answer,
        contrast,
        compared: { subject: { ...describedFacts(o), ...item.subjectFacts }, candidate: optionA },
      };
    const refs = 1 + rng.int(2);
    return {
      skill: 'choice',
      scenes: Array.from({ length: refs }, () => randomScene(o, rng)),
      queryImage: false,
      user: `<name> is ${'<image>'.repeat(refs)}. ${prompt}`,
      answer,
      contrast,
      compared: { subject: { ...shownFacts(o), ...item.subjectFacts }, candidate: optionA },
    };
  },
};
