// Free-form chat about a ToyWorld subject, with answers checked against its ground truth: the questions
// (single turn, follow-ups that need the history, two subjects at once, questions about a photo), and the
// scoring. An answer is right when it states what is true and nothing false of the same kind (a colour the
// subject does not have, another kind, another material), and it must be a sentence: a bare option letter
// or "this image shows this image" counts against the model whatever it says.
// ToyWorld has no places, so "where is <bo> usually?" is not asked.
import {
  ACCESSORIES,
  COLOR_NAMES,
  KIND_NAMES,
  KINDS,
  MATERIALS,
  PATTERNS,
  type ObjectInstance,
} from './world';

export type ChatCategory = 'single_turn' | 'follow_up' | 'two_subject' | 'photo';
export const CHAT_CATEGORIES: readonly ChatCategory[] = ['single_turn', 'follow_up', 'two_subject', 'photo'];

/** A subject as the benchmark knows it: its name and what it really is. */
export interface ChatSubject {
  name: string;
  object: ObjectInstance;
}

/** What a right answer states, and the words of the same kind that would make it wrong. */
export interface Expectation {
  /** Each group: at least one of its words must appear (all groups must be met). */
  needs: string[][];
  /** None of these may appear. */
  forbids: string[];
  /** The first subject the answer names must be this one ("which one is red, <bo> or <mam>?"). */
  firstNamed?: string;
  /**
   * The colour each thing really has: "a blue bow" is wrong when the bow is red, even though <bo> is
   * blue. A colour word right before one of these nouns (a pattern word may sit between) must be its own.
   */
  colorOf?: Record<string, string>;
}

export interface ChatQuestion {
  category: ChatCategory;
  /** What is asked about, for the per-skill breakdown ("color", "accessory", "same kind"…). */
  skill: string;
  question: string;
  /** Earlier turns; an assistant turn given as null is the model's own answer to the user turn before it. */
  history: { question: string; answer: string | null }[];
  /** The photo asked about: a test photo of the subject ("own") or of the other subject ("other"). */
  photo?: 'own' | 'other';
  /** The subjects the question names, first the one the panel is open on. */
  subjects: string[];
  expect: Expectation;
}

const name = (s: ChatSubject): string => `<${s.name}>`;
const material = (o: ObjectInstance): string => KINDS[o.kind].material;
const hasAccessory = (o: ObjectInstance): boolean => o.accessory !== 'none';
/** Colours the subject has somewhere (body, and accessory when it wears one). */
const ownColors = (o: ObjectInstance): string[] => [o.color, ...(hasAccessory(o) ? [o.accessoryColor] : [])];
const others = (all: readonly string[], keep: string[]): string[] => all.filter((w) => !keep.includes(w));
const NOTHING = ['nothing', 'no', 'not', 'none', "doesn't", 'without'];

/** The colours of one subject's things, for Expectation.colorOf. */
function colorsOf(...subjects: ObjectInstance[]): Record<string, string> {
  const out: Record<string, string> = {};
  const clash = new Set<string>();
  const bind = (noun: string, color: string): void => {
    if (Object.hasOwn(out, noun) && out[noun] !== color) clash.add(noun);
    out[noun] = color;
  };
  for (const o of subjects) {
    bind(o.kind, o.color);
    if (hasAccessory(o)) bind(o.accessory, o.accessoryColor);
  }
  // Two subjects' things of one name in different colours: either colour may be meant.
  for (const n of clash) delete out[n];
  return out;
}

/** Everything that is false of `o`: the kinds, colours, patterns, accessories and materials it lacks. */
function falseOf(o: ObjectInstance): string[] {
  return [
    ...others(KIND_NAMES, [o.kind]),
    ...others(COLOR_NAMES, ownColors(o)),
    ...others(PATTERNS, [o.pattern]),
    ...others(ACCESSORIES, [o.accessory]).filter((a) => a !== 'none'),
    ...others(MATERIALS, [material(o)]),
  ];
}

function accessoryExpectation(o: ObjectInstance): Expectation {
  return hasAccessory(o)
    ? { needs: [[o.accessory]], forbids: others(ACCESSORIES, [o.accessory]).filter((a) => a !== 'none') }
    : { needs: [NOTHING], forbids: ACCESSORIES.filter((a) => a !== 'none') };
}

/** Questions about one subject, each phrased two ways where English allows. */
export function singleTurnQuestions(s: ChatSubject): ChatQuestion[] {
  const o = s.object;
  const n = name(s);
  const q = (skill: string, question: string, expect: Expectation): ChatQuestion => ({
    category: 'single_turn',
    skill,
    question,
    history: [],
    subjects: [s.name],
    expect: { ...expect, colorOf: colorsOf(o) },
  });
  const kind = { needs: [[o.kind]], forbids: others(KIND_NAMES, [o.kind]) };
  const color = { needs: [[o.color]], forbids: others(COLOR_NAMES, ownColors(o)) };
  const pattern = { needs: [[o.pattern]], forbids: others(PATTERNS, [o.pattern]) };
  const made = { needs: [[material(o)]], forbids: others(MATERIALS, [material(o)]) };
  const out = [
    q('kind', `What kind of thing is ${n}?`, kind),
    q('kind', `What is ${n}?`, kind),
    q('color', `What color is ${n}?`, color),
    q('color', `Which colour is ${n}?`, color),
    q('pattern', `What pattern does ${n} have?`, pattern),
    q('pattern', `Is ${n} striped, dotted or plain?`, pattern),
    q('accessory', `What is ${n} wearing?`, accessoryExpectation(o)),
    q('accessory', `Does ${n} wear anything?`, accessoryExpectation(o)),
    q('material', `What is ${n} made of?`, made),
    q('material', `What material is ${n}?`, made),
    q('description', `Describe ${n} in one sentence.`, { needs: [[o.kind], [o.color]], forbids: falseOf(o) }),
  ];
  if (hasAccessory(o)) {
    const c = { needs: [[o.accessoryColor]], forbids: others(COLOR_NAMES, ownColors(o)) };
    out.push(
      q('accessory color', `What color is ${n}'s ${o.accessory}?`, c),
      q('accessory color', `What color is the ${o.accessory} that ${n} wears?`, c),
    );
  }
  return out;
}

/** Follow-ups that only make sense with the turn before: "it", "and its hat?", "what else". */
export function followUpQuestions(s: ChatSubject): ChatQuestion[] {
  const o = s.object;
  const n = name(s);
  const q = (skill: string, first: string, question: string, expect: Expectation): ChatQuestion => ({
    category: 'follow_up',
    skill,
    question,
    history: [{ question: first, answer: null }],
    subjects: [s.name],
    expect: { ...expect, colorOf: colorsOf(o) },
  });
  const out = [
    q('accessory', `What color is ${n}?`, 'And what is it wearing?', accessoryExpectation(o)),
    q('material', `What is ${n}?`, 'What is it made of?', {
      needs: [[material(o)]],
      forbids: others(MATERIALS, [material(o)]),
    }),
    q('pattern', `What color is ${n}?`, 'And what pattern does it have?', {
      needs: [[o.pattern]],
      forbids: others(PATTERNS, [o.pattern]),
    }),
    q('kind', `What color is ${n}?`, 'What kind of thing is it?', {
      needs: [[o.kind]],
      forbids: others(KIND_NAMES, [o.kind]),
    }),
    // Anything true beyond the colour already given, and nothing false.
    q('what else', `What color is ${n}?`, 'What else can you tell me about it?', {
      needs: [[o.kind, o.pattern, material(o), ...(hasAccessory(o) ? [o.accessory] : [])]],
      forbids: falseOf(o),
    }),
  ];
  if (hasAccessory(o))
    out.push(
      q('accessory color', `What is ${n} wearing?`, `And what color is its ${o.accessory}?`, {
        needs: [[o.accessoryColor]],
        forbids: others(COLOR_NAMES, ownColors(o)),
      }),
    );
  return out;
}

/** Two subjects in one question: which of them has an attribute, and whether they share one. */
export function twoSubjectQuestions(a: ChatSubject, b: ChatSubject): ChatQuestion[] {
  const [na, nb] = [name(a), name(b)];
  const q = (skill: string, question: string, expect: Expectation): ChatQuestion => ({
    category: 'two_subject',
    skill,
    question,
    history: [],
    subjects: [a.name, b.name],
    expect: { ...expect, colorOf: colorsOf(a.object, b.object) },
  });
  const out: ChatQuestion[] = [];
  const yes = ['yes'];
  const no = ['no', 'not'];
  const same = (x: boolean): Expectation => ({ needs: [x ? yes : no], forbids: x ? no : yes });
  if (a.object.color !== b.object.color)
    out.push(
      q('which color', `Which one is ${a.object.color}, ${na} or ${nb}?`, {
        needs: [],
        forbids: [],
        firstNamed: na,
      }),
    );
  if (a.object.kind !== b.object.kind)
    out.push(
      q('which kind', `Which one is a ${b.object.kind}, ${na} or ${nb}?`, {
        needs: [],
        forbids: [],
        firstNamed: nb,
      }),
    );
  out.push(
    q('same kind', `Are ${na} and ${nb} the same kind?`, same(a.object.kind === b.object.kind)),
    q('same color', `Do ${na} and ${nb} have the same color?`, same(a.object.color === b.object.color)),
    q('both colors', `What colors are ${na} and ${nb}?`, {
      needs: [[a.object.color], [b.object.color]],
      forbids: others(COLOR_NAMES, [...ownColors(a.object), ...ownColors(b.object)]),
    }),
  );
  return out;
}

/** Questions about a photo: is the subject in it (it is, or it is the other subject), and what it shows. */
export function photoQuestions(s: ChatSubject): ChatQuestion[] {
  const n = name(s);
  const q = (skill: string, question: string, photo: 'own' | 'other', expect: Expectation): ChatQuestion => ({
    category: 'photo',
    skill,
    question,
    history: [],
    photo,
    subjects: [s.name],
    expect: { ...expect, colorOf: colorsOf(s.object) },
  });
  return [
    q('present', `Is ${n} in this photo?`, 'own', { needs: [['yes']], forbids: ['no', 'not'] }),
    q('present', `Can you see ${n} here?`, 'own', { needs: [['yes']], forbids: ['no', 'not'] }),
    q('absent', `Is ${n} in this photo?`, 'other', { needs: [['no', 'not']], forbids: ['yes'] }),
    q('absent', `Can you see ${n} here?`, 'other', { needs: [['no', 'not']], forbids: ['yes'] }),
    q('color in photo', `What color is ${n} in this photo?`, 'own', {
      needs: [[s.object.color]],
      forbids: others(COLOR_NAMES, ownColors(s.object)),
    }),
  ];
}

/** The words of an answer, lower-case; a subject's name stays one word ("<bo>"). */
export function answerWords(answer: string): string[] {
  return (answer.toLowerCase().match(/<[a-z][\w-]*>|[a-z]+(?:'[a-z]+)?/g) ?? []).map((w) =>
    w === 'colour' ? 'color' : w,
  );
}

/**
 * Not a sentence about anything: empty, a bare option letter ("A", "B."), or the degenerate phrase the
 * default model falls back on ("this image shows this image").
 */
export function isNonSentence(answer: string): boolean {
  const t = answer.trim();
  return (
    !t ||
    /^[A-D][.)]?$/.test(t) ||
    // An option letter standing where the subject should: "A wears a blue bow."
    /^[AB] (is|wears|has|was|looks|are)\b/.test(t) ||
    /\bthis image shows this image\b/i.test(t)
  );
}

/** A colour word bound to the wrong thing: "a blue bow" when the bow is red. */
function misboundColor(words: string[], colorOf: Record<string, string>): boolean {
  const colors = new Set<string>(COLOR_NAMES);
  const patterns = new Set<string>(PATTERNS);
  for (let i = 0; i < words.length; i++) {
    if (!colors.has(words[i]!)) continue;
    let j = i + 1;
    if (patterns.has(words[j] ?? '')) j++;
    const noun = words[j];
    if (noun && Object.hasOwn(colorOf, noun) && colorOf[noun] !== words[i]) return true;
  }
  return false;
}

/** Whether `answer` states what `expect` needs and nothing it forbids, as a sentence. */
export function scoreAnswer(answer: string, expect: Expectation): boolean {
  if (isNonSentence(answer)) return false;
  const words = new Set(answerWords(answer));
  const names = answer.toLowerCase();
  const has = (w: string): boolean => (w.startsWith('<') ? names.includes(w.toLowerCase()) : words.has(w));
  if (expect.firstNamed && /<[a-z][\w-]*>/.exec(names)?.[0] !== expect.firstNamed.toLowerCase()) return false;
  if (expect.colorOf && misboundColor(answerWords(answer), expect.colorOf)) return false;
  return expect.needs.every((group) => group.some(has)) && !expect.forbids.some(has);
}
