// Chat about a subject, measured (npm run bench -- chat [--seeds A..B] [--json]): fresh ToyWorld subjects,
// free-form questions checked against each subject's truth (engine/toyworld/chat-eval.ts): single-turn
// attribute questions phrased two ways, follow-ups that need the history, two subjects in one question,
// and questions about a photo. Each is asked three ways: with the trained concept, in instant mode from
// the reference photos (before training), and on the base model with the subject file's description in
// the prompt. Greedy decoding, 32 new tokens at most, the product's own chat() for every answer.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChatMessage } from '../server/src/engine/models/llava/chat-template';
import { LlavaModel } from '../server/src/engine/models/llava/model';
import { personalize } from '../server/src/engine/personalize/personalize';
import type { UseMode } from '../server/src/engine/personalize/reference-mode';
import { chat } from '../server/src/engine/personalize/use';
import {
  CHAT_CATEGORIES,
  followUpQuestions,
  isNonSentence,
  photoQuestions,
  scoreAnswer,
  singleTurnQuestions,
  twoSubjectQuestions,
  type ChatCategory,
  type ChatQuestion,
  type ChatSubject,
} from '../server/src/engine/toyworld/chat-eval';
import { defaultModelDir } from '../server/src/engine/toyworld/default-model';
import { writeToyworldSubject } from '../server/src/engine/toyworld/workspace';
import { seedRange } from './arguments';

const THREADS = Number(process.env['YOLLAVA_THREADS'] ?? Math.min(2, os.cpus().length));
/** The benchmark's subjects: fresh, never tuned on (the paper's table uses 7200..7209). */
const DEFAULT_SEEDS: [number, number] = [7300, 7309];
const MAX_NEW_TOKENS = 32;

const SETTINGS = {
  trained: 'trained',
  instant: 'reference',
  base_description: 'description',
} as const satisfies Record<string, UseMode>;
type Setting = keyof typeof SETTINGS;

interface Subject extends ChatSubject {
  file: string;
  testPhoto: string;
}

/**
 * Words of the questions that a word-level vocabulary lacks (they become its unknown token): the default
 * model's 274 words were chosen for pretraining's templates, and a person's phrasing goes beyond them.
 * Empty for other tokenizers, which spell any word out of pieces.
 */
function unknownWordsOf(modelDir: string): (text: string) => string[] {
  const tok = JSON.parse(readFileSync(path.join(modelDir, 'tokenizer.json'), 'utf8')) as {
    model: { type?: string; vocab?: Record<string, number> };
  };
  if (tok.model.type !== 'WordLevel' || !tok.model.vocab) return () => [];
  const vocab = tok.model.vocab;
  const known = (w: string): boolean =>
    Object.hasOwn(vocab, w) || Object.hasOwn(vocab, w[0]!.toUpperCase() + w.slice(1));
  return (text) => (text.replace(/<[\w-]+>/g, ' ').match(/[A-Za-z]+/g) ?? []).filter((w) => !known(w));
}

interface Asked {
  setting: Setting;
  /** Words of the question (or its history) outside a word-level vocabulary. */
  unknown: string[];
  q: ChatQuestion;
  subject: string;
  answer: string;
  right: boolean;
  nonSentence: boolean;
}

/** A Markdown table, so that the figures paste into docs/results/chat.md as printed. */
function table(head: string[], rows: string[][]): string {
  return [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

async function answer(
  model: LlavaModel,
  files: string[],
  question: string,
  setting: Setting,
  history: ChatMessage[] = [],
  image?: string,
): Promise<string> {
  let text = '';
  for await (const d of chat(files, question, {
    model,
    mode: SETTINGS[setting],
    history,
    image,
    maxNewTokens: MAX_NEW_TOKENS,
  }))
    text += d;
  return text.trim();
}

async function ask(
  model: LlavaModel,
  q: ChatQuestion,
  setting: Setting,
  subjects: Map<string, Subject>,
  partner: Subject,
): Promise<string> {
  const files = q.subjects.map((n) => subjects.get(n)!.file);
  const own = subjects.get(q.subjects[0]!)!;
  const history: ChatMessage[] = [];
  for (const turn of q.history) {
    const said = turn.answer ?? (await answer(model, files, turn.question, setting, history));
    history.push(
      { role: 'user', text: turn.question, images: 0 },
      { role: 'assistant', text: said, images: 0 },
    );
  }
  const image = q.photo === 'own' ? own.testPhoto : q.photo === 'other' ? partner.testPhoto : undefined;
  return answer(model, files, q.question, setting, history, image);
}

export async function runChatBench(json: boolean, args: string[]): Promise<Record<string, unknown>> {
  const [from, to] = seedRange(args, DEFAULT_SEEDS);
  const modelDir = defaultModelDir();
  if (!modelDir)
    throw new Error('the default model (samples/models/toy-llava) is missing: run npm run pretrain');
  const model = LlavaModel.load(modelDir, { threads: THREADS });
  const unknownWords = unknownWordsOf(modelDir);
  const root = mkdtempSync(path.join(os.tmpdir(), 'yollava-bench-chat-'));
  const log = (line: string): void => {
    if (!json) process.stderr.write(`${line}\n`);
  };
  const t0 = performance.now();
  try {
    const subjects: Subject[] = [];
    for (let seed = from; seed <= to; seed++) {
      const out = path.join(root, String(seed));
      const s = await writeToyworldSubject({ seed, out });
      // Names are drawn per seed; a repeat would make a two-subject question ambiguous.
      if (subjects.some((x) => x.name === s.name)) continue;
      const tests = readdirSync(path.join(out, 'photos', 'test')).sort();
      subjects.push({ ...s, testPhoto: path.join(out, 'photos', 'test', tests[0]!) });
    }
    const byName = new Map(subjects.map((s) => [s.name, s]));
    // Each subject's partner: the next one (for two-subject questions and the photo it is not in).
    const partner = (i: number): Subject => subjects[(i + 1) % subjects.length]!;
    const questions = subjects.map((s, i) => [
      ...singleTurnQuestions(s),
      ...followUpQuestions(s),
      ...photoQuestions(s),
      // Pairs (0,1), (2,3)…: each pair is asked about once, in its own order.
      ...(i % 2 === 0 && i + 1 < subjects.length ? twoSubjectQuestions(s, partner(i)) : []),
    ]);
    const asked: Asked[] = [];
    const run = async (setting: Setting): Promise<void> => {
      const t = performance.now();
      for (const [i, s] of subjects.entries())
        for (const q of questions[i]!) {
          const a = await ask(model, q, setting, byName, partner(i));
          asked.push({
            setting,
            unknown: unknownWords([q.question, ...q.history.map((h) => h.question)].join(' ')),
            q,
            subject: s.name,
            answer: a,
            right: scoreAnswer(a, q.expect),
            nonSentence: isNonSentence(a),
          });
        }
      log(`${setting}: ${((performance.now() - t) / 1000).toFixed(0)} s`);
    };
    // Before training: instant mode and the description; then train every subject and ask again.
    await run('instant');
    await run('base_description');
    const tTrain = performance.now();
    for (const s of subjects) await personalize(s.file, { model, resume: false });
    log(`training ${subjects.length} subjects: ${((performance.now() - tTrain) / 1000).toFixed(0)} s`);
    await run('trained');

    const fraction = (setting: Setting, c: ChatCategory): number => {
      const xs = asked.filter((a) => a.setting === setting && a.q.category === c);
      return xs.length ? xs.filter((a) => a.right).length / xs.length : NaN;
    };
    const result = Object.fromEntries(
      (Object.keys(SETTINGS) as Setting[]).map((setting) => [
        setting,
        Object.fromEntries(CHAT_CATEGORIES.map((c) => [c, Number(fraction(setting, c).toFixed(3))])),
      ]),
    );
    const summary = {
      ...result,
      non_sentence_answers: asked.filter((a) => a.nonSentence).length,
      non_sentence_by_setting: Object.fromEntries(
        (Object.keys(SETTINGS) as Setting[]).map((s) => [
          s,
          asked.filter((a) => a.setting === s && a.nonSentence).length,
        ]),
      ),
      questions: asked.length,
      questions_with_unknown_words: asked.filter((a) => a.unknown.length).length,
      questions_per_setting: asked.length / 3,
      subjects: subjects.length,
      seeds: `${from}..${to}`,
      seconds: Number(((performance.now() - t0) / 1000).toFixed(0)),
    };
    if (!json) printReport(asked, `${from}..${to}`, subjects.length);
    return summary;
  } finally {
    await model.release();
    rmSync(root, { recursive: true, force: true });
  }
}

/** The tables a person reads: per category, per skill, the non-sentences, the unknown words, some wrong answers. */
function printReport(asked: Asked[], seeds: string, subjectCount: number): void {
  const fraction = (setting: Setting, c: ChatCategory): number => {
    const xs = asked.filter((a) => a.setting === setting && a.q.category === c);
    return xs.length ? xs.filter((a) => a.right).length / xs.length : NaN;
  };
  const settings = Object.keys(SETTINGS) as Setting[];
  const count = (s: Setting, c: ChatCategory): string => {
    const xs = asked.filter((a) => a.setting === s && a.q.category === c);
    return `${fraction(s, c).toFixed(2)} (${xs.filter((a) => a.right).length}/${xs.length})`;
  };
  console.log(
    `\nChat on ToyWorld subjects ${seeds} (${subjectCount} subjects, greedy, ${MAX_NEW_TOKENS} tokens at most)\n`,
  );
  console.log(
    table(
      ['category', ...settings],
      CHAT_CATEGORIES.map((c) => [c, ...settings.map((s) => count(s, c))]),
    ),
  );
  const skills = [...new Set(asked.map((a) => `${a.q.category}/${a.q.skill}`))];
  console.log('\nBy skill (fraction right)\n');
  console.log(
    table(
      ['skill', ...settings],
      skills.map((k) => [
        k,
        ...settings.map((s) => {
          const xs = asked.filter((a) => a.setting === s && `${a.q.category}/${a.q.skill}` === k);
          return `${(xs.filter((a) => a.right).length / xs.length).toFixed(2)} (${xs.length})`;
        }),
      ]),
    ),
  );
  console.log(
    `\nnon-sentence answers: ${asked.filter((a) => a.nonSentence).length} of ${asked.length} (${settings.map((s) => `${s} ${asked.filter((a) => a.setting === s && a.nonSentence).length}`).join(', ')})`,
  );
  const oov = asked.filter((a) => a.setting === 'trained' && a.unknown.length);
  const inVocab = (c: ChatCategory): string => {
    const xs = asked.filter((a) => a.setting === 'trained' && a.q.category === c && !a.unknown.length);
    return `${c} ${(xs.filter((a) => a.right).length / Math.max(1, xs.length)).toFixed(2)} (${xs.length})`;
  };
  console.log(
    `\nquestions with a word the model's vocabulary lacks: ${oov.length} of ${asked.length / 3} per setting (${[...new Set(oov.flatMap((a) => a.unknown.map((w) => w.toLowerCase())))].join(', ')}); trained, on the others only: ${CHAT_CATEGORIES.map(inVocab).join(', ')}`,
  );
  console.log('\nSome wrong answers, one per category and setting:\n');
  for (const s of settings)
    for (const c of CHAT_CATEGORIES) {
      const w = asked.find((a) => a.setting === s && a.q.category === c && !a.right);
      if (w)
        console.log(
          `- ${s} · ${c} · <${w.subject}>: ${w.q.history.length ? `(after "${w.q.history[0]!.question}") ` : ''}${w.q.photo ? `[${w.q.photo} photo] ` : ''}"${w.q.question}" → "${w.answer}"`,
        );
    }
}
