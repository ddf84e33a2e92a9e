// The recipe's conversations asked as two options: built from the base model's own answers on the
// embedded default model and the sample subject, never from the subject's known facts.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import {
  buildTrainingData,
  optionTexts,
  stableAnswer,
  type TrainingData,
} from '../../server/src/engine/personalize/data-builder';
import { openSubject, type SubjectSession } from '../../server/src/engine/personalize/personalize';
import { conceptTokens } from '../../server/src/engine/personalize/prompts';
import { Rng } from '../../server/src/engine/util/rng';

const squash = (x: string) => x.toLowerCase().replace(/\s+/g, '');
const subjectFile = path.join(__dirname, '..', '..', 'samples', 'bo', 'bo.subject.yaml');

describe('an answer given for most photos is the subject, an answer that varies is the scene', () => {
  it('returns the answer of at least 60 % of the photos, ignoring case and final punctuation', () => {
    assert.equal(
      stableAnswer(['<bo> is blue.', '<bo> is Blue', '<bo> is blue.', '<bo> is red.'], 4),
      '<bo> is blue.',
    );
    assert.equal(stableAnswer(['left', 'right', 'left', 'right', 'top'], 5), null);
    // One photo is no evidence that an answer holds for the subject.
    assert.equal(stableAnswer(['<bo> is blue.'], 1), null);
  });
});

describe('two answers become two short options', () => {
  it('drops the words both answers share at their start and end', () => {
    assert.deepEqual(optionTexts('<bo> is made of fur.', '<bo> is made of glass.'), ['Fur', 'Glass']);
    assert.deepEqual(optionTexts('<bo> has stripes.', '<bo> has no pattern.'), ['Stripes', 'No pattern']);
    assert.deepEqual(optionTexts('<bo> looks small in the photo.', '<bo> looks big in the photo.'), [
      'Small',
      'Big',
    ]);
    assert.deepEqual(optionTexts('A scarf.', 'Nothing.'), ['A scarf.', 'Nothing.']);
    const knowsNoCapitals = (text: string) => text === text.toLowerCase();
    assert.deepEqual(optionTexts('<bo> is small.', '<bo> is big.', knowsNoCapitals), ['small', 'big']);
  });
});

describe('conversations asked as two options', () => {
  let s: SubjectSession;
  const progress: { done: number; total: number }[] = [];
  const build = (choices: boolean): Promise<TrainingData> => {
    progress.length = 0;
    const tokens = conceptTokens(s.subject.name, 4, s.model.vocab);
    return buildTrainingData(
      s.model,
      s.tokenizer,
      s.ctx,
      s.store,
      tokens,
      {
        train: s.subject.train,
        pool: s.subject.pools,
        hard: 4,
        random: 12,
        category: s.subject.category,
        questionsPerPhoto: 1,
        conversationTokens: 12,
        choices,
      },
      new Rng(3),
      { progress: (p) => p.phase === 'conversations' && progress.push(p) },
    );
  };
  // The conversations phase, rival answers included, counts up to one fixed total and reaches it.
  const totals: Record<string, number> = {};
  const assertProgressCounts = (choices: boolean) => {
    assert.ok(progress.length > 0);
    const total = progress[0]!.total;
    totals[String(choices)] = total;
    progress.forEach((p, i) => {
      assert.equal(p.total, total);
      assert.ok(p.done <= total && (i === 0 || p.done >= progress[i - 1]!.done), `${p.done}/${total}`);
    });
    assert.equal(progress[progress.length - 1]!.done, total);
  };
  before(() => {
    s = openSubject(subjectFile, { workspaceDir: mkdtempSync(path.join(tmpdir(), 'yollava-choice-')) }, 4);
  });

  it("pit the subject's stable answer against a random negative's, once in each order", async () => {
    const data = await build(true);
    assertProgressCounts(true);
    assert.ok(data.choices.length >= 3, `only ${data.choices.length} two-option questions`);
    const random = new Set(data.negatives.filter((n) => n.kind === 'random').map((n) => n.file));
    for (const c of data.choices) {
      const given = data.conversations.filter((x) => x.question === c.question).map((x) => x.answer);
      const stable = stableAnswer(given, data.positives.length);
      assert.ok(stable?.toLowerCase().includes(c.right.toLowerCase()), `${c.right} is not from ${stable}`);
      assert.notEqual(c.wrong.toLowerCase(), c.right.toLowerCase());
      assert.ok(random.has(c.wrongImage), `${c.wrongImage} is not a random negative`);
    }
    const samples = data.samples.filter((x) => x.kind === 'choice');
    assert.equal(samples.length, 2 * data.choices.length);
    const decode = (ids: number[]) => s.tokenizer.decode(ids, true);
    for (const [i, c] of data.choices.entries()) {
      const orders = samples.slice(2 * i, 2 * i + 2).map((x) => {
        const prompt = decode(x.ids.filter((_, j) => x.labels[j] === -100));
        const answer = decode(x.labels.filter((l) => l !== -100)).trim();
        // The word-level tokenizer decodes with its own spacing and case.
        const shown = (letter: string, option: string) =>
          squash(prompt).includes(squash(`${letter}. ${option}`));
        return { rightFirst: shown('A', c.right) && shown('B', c.wrong), answer };
      });
      assert.deepEqual(orders, [
        { rightFirst: true, answer: 'A.' },
        { rightFirst: false, answer: 'B.' },
      ]);
    }
  });

  it('the ablation keeps the free-form conversations and asks none as two options', async () => {
    const data = await build(false);
    assertProgressCounts(false);
    // The rival answers are counted in the phase's progress: without them there is less to do.
    assert.ok(totals['false']! < totals['true']!, JSON.stringify(totals));
    assert.equal(data.choices.length, 0);
    assert.equal(data.samples.filter((x) => x.kind === 'choice').length, 0);
    assert.ok(data.conversations.length > 0);
  });
});
