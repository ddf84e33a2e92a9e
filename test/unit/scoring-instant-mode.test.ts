// Honest scoring: recognition raw and calibrated on a set that is not the test set; two-option QA raw (one
// order drawn) and balanced (both orders). Instant mode: a subject with photos but no trained concept
// answers through its reference photos.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import {
  accuracy,
  recognitionScores,
  scoreRecognition,
} from '../../server/src/engine/personalize/recognition';
import { Concept, readConceptMeta, trainingRecognition } from '../../server/src/engine/personalize/concept';
import { openSubject, personalize } from '../../server/src/engine/personalize/personalize';
import { qaAnswers, rightOptionMargin, type QaItem } from '../../server/src/engine/personalize/qa';
import { referenceConcept, referencePrefix } from '../../server/src/engine/personalize/reference-mode';
import { Rng } from '../../server/src/engine/util/rng';
import { LlavaModel } from '../../server/src/engine/models/llava/model';
import { defaultModelDir } from '../../server/src/engine/toyworld/default-model';
import { chat, recognize } from '../../server/src/engine/personalize/use';
import { writeSubjectWorkspace } from '../../server/src/engine/toyworld/workspace';
import { RED_MUG, writeTinyPersonalizationModel } from '../helpers/tiny-model';

describe('recognition scoring', () => {
  it('raw uses P(Yes) > P(No); calibrated uses the threshold that is best on the calibration set, not the test set', () => {
    const test = { pos: [2, 0.5, -0.3, 1], neg: [-2, 0.2, 0.3, 0.8] };
    const calibration = { pos: [1.5, 0.9, 0.6], neg: [0.4, -1, 0.1] };
    const r = scoreRecognition(test, calibration);
    assert.deepEqual(r.raw, { positive: 0.75, negative: 0.25, weighted: 0.5 });
    // Between the calibration set's highest negative (0.4) and lowest positive (0.6).
    assert.equal(r.threshold, 0.5);
    assert.deepEqual(r.calibrated, { positive: 0.5, negative: 0.75, weighted: 0.625 });
    // The test set's own best threshold (0.9, weighted 0.75) is not what was used.
    const onTest = scoreRecognition(test, test);
    assert.ok(onTest.calibrated.weighted > r.calibrated.weighted);
  });
});

describe('two-option QA scoring', () => {
  it('raw asks each item once in the order drawn; balanced averages both orders, whatever the draw', async () => {
    const ws = mkdtempSync(path.join(tmpdir(), 'yollava-qa-'));
    writeTinyPersonalizationModel(path.join(ws, 'model'));
    const file = await writeSubjectWorkspace(ws, {
      name: 'bo',
      object: RED_MUG,
      train: 3,
      test: 1,
      negatives: 2,
      hard: 1,
      random: 1,
      model: '../model',
    });
    // The default model: the tiny one's vocabulary has no option letters to read.
    const s = openSubject(file, { model: LlavaModel.load(defaultModelDir()!) });
    const items: QaItem[] = [
      { question: 'What color is <name>?', options: ['Red', 'Green'], answer: 0 },
      { question: 'What pattern does <name> have?', options: ['Stripes', 'No pattern'], answer: 1 },
      { question: 'What is <name> made of?', options: ['Metal', 'Fur'], answer: 0 },
      { question: 'What kind of thing is <name>?', options: ['A dog', 'A mug'], answer: 1 },
    ];
    // A fresh <bo> row, as a subject without training has.
    const fresh = referenceConcept(s.model, 'bo');
    const rows = { embeddings: fresh.embeddings, head: fresh.head };
    const margins = await Promise.all(
      items.map(async (q) =>
        Promise.all(
          [false, true].map((swapped) =>
            rightOptionMargin(s.model, s.ctx, s.store, q, swapped, '', '<bo>', rows),
          ),
        ),
      ),
    );
    // Where the model leans towards one letter more than it knows the answer, the order shown decides.
    assert.ok(margins.some(([a, b]) => a! > 0 !== b! > 0));
    const readings = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((seed) =>
        qaAnswers(s.model, s.ctx, s.store, items, '', '<bo>', rows, new Rng(seed)),
      ),
    );
    for (const r of readings) {
      assert.deepEqual(
        r.balanced,
        margins.map(([a, b]) => (a! + b!) / 2 > 0),
      );
      r.raw.forEach((right, i) => assert.ok(margins[i]!.some((m) => m > 0 === right)));
    }
    assert.ok(new Set(readings.map((r) => JSON.stringify(r.raw))).size > 1, 'raw follows the order drawn');
    await s.model.release();
  });
});

describe('instant mode', () => {
  let ws = '';
  let file = '';
  before(async () => {
    ws = mkdtempSync(path.join(tmpdir(), 'yollava-instant-'));
    writeTinyPersonalizationModel(path.join(ws, 'model'));
    file = await writeSubjectWorkspace(ws, {
      name: 'bo',
      object: RED_MUG,
      train: 4,
      test: 2,
      negatives: 8,
      hard: 3,
      random: 3,
      model: '../model',
    });
  });

  it('an untrained subject recognizes through its reference photos, and says so', async () => {
    const images = [path.join(ws, 'bo', 'photos', 'test', '000.png'), path.join(ws, 'negatives', '000.png')];
    const r = await recognize(file, images);
    assert.deepEqual(
      r.map((x) => [x.mode, x.threshold]),
      [
        ['reference', 0],
        ['reference', 0],
      ],
    );
    // The reference photos are really in the prompt: replacing one changes the scores.
    copyFileSync(path.join(ws, 'negatives', '001.png'), path.join(ws, 'bo', 'photos', 'train', '000.png'));
    const changed = await recognize(file, images);
    assert.notDeepEqual(
      changed.map((x) => x.score),
      r.map((x) => x.score),
    );
    await assert.rejects(recognize(file, images, { mode: 'trained' }), /train the subject first/);
    const modes: string[] = [];
    for await (const _ of chat([file], 'What color is <bo>?', {
      maxNewTokens: 2,
      onModes: (m) => modes.push(...m.map((x) => x.mode)),
    }))
      void _;
    assert.deepEqual(modes, ['reference']);
  });

  it('a concept started from a reference photo answers, before any training step, exactly as instant mode with that photo', async () => {
    const s = openSubject(file);
    const photo = [path.join(ws, 'bo', 'photos', 'train', '001.png')];
    const [features] = await s.store.projected(photo);
    const tokensPerImage = features!.length / s.model.hidden;
    const started = Concept.initialize(s.model, 'bo', tokensPerImage, 'all', 'reference-photo', 1, [
      features!,
    ]);
    const fresh = referenceConcept(s.model, 'bo');
    const images = await s.store.projected([
      path.join(ws, 'bo', 'photos', 'test', '000.png'),
      path.join(ws, 'negatives', '000.png'),
      path.join(ws, 'negatives', '003.png'),
    ]);
    const asConcept = await recognitionScores(
      s.model,
      s.ctx,
      s.yesNo,
      { concept: started, nameText: '<bo>' },
      images,
    );
    const asInstant = await recognitionScores(
      s.model,
      s.ctx,
      s.yesNo,
      { concept: fresh, nameText: '<bo>', prefix: referencePrefix('<bo>', 1), references: [features!] },
      images,
    );
    asConcept.forEach((x, i) => assert.ok(Math.abs(x - asInstant[i]!) < 1e-4, `${x} vs ${asInstant[i]}`));
    // ... and not by chance: started from another photo, it answers otherwise.
    const [other] = await s.store.projected([path.join(ws, 'negatives', '005.png')]);
    const fromOther = await recognitionScores(
      s.model,
      s.ctx,
      s.yesNo,
      {
        concept: Concept.initialize(s.model, 'bo', tokensPerImage, 'all', 'reference-photo', 1, [other!]),
        nameText: '<bo>',
      },
      images,
    );
    assert.ok(
      fromOther.some((x, i) => Math.abs(x - asInstant[i]!) > 1e-3),
      `${fromOther} vs ${asInstant}`,
    );
    // Fewer latent tokens than the photo has: consecutive tokens are averaged.
    const four = Concept.initialize(s.model, 'bo', 4, 'all', 'reference-photo', 1, [features!]);
    const D = s.model.hidden;
    const group = tokensPerImage / 4;
    for (let d = 0; d < D; d += 17) {
      let m = 0;
      for (let t = 0; t < group; t++) m += features![t * D + d]! / group;
      assert.ok(Math.abs(four.embeddings[D + d]! - m) < 1e-6);
    }
    await s.model.release();
  });

  it('once trained, the trained concept takes over; reference mode can still be asked for; its stored training recognition is what it answers', async () => {
    const r = await personalize(file, {
      overrides: { epochs: 1, questionsPerPhoto: 2, conversationTokens: 4, tokens: 2 },
    });
    const images = [path.join(ws, 'bo', 'photos', 'test', '000.png'), path.join(ws, 'negatives', '000.png')];
    const trained = await recognize(file, images);
    assert.deepEqual(
      trained.map((x) => x.mode),
      ['trained', 'trained'],
    );
    // The trained concept answers as the model does, P(Yes) > P(No), not by the threshold it calibrated
    // on its training photos (which this one has).
    const meta = readConceptMeta(path.join(ws, 'bo', '.yollava', 'bo'))!;
    assert.notEqual(meta.threshold, 0);
    for (const x of trained) {
      assert.equal(x.threshold, 0);
      assert.equal(x.present, x.score > 0);
    }
    const reference = await recognize(file, images, { mode: 'reference' });
    assert.equal(reference[0]!.mode, 'reference');
    // The description in words, the baseline the chat benchmark sets beside both: a prompt of its own.
    const described = await recognize(file, images, { mode: 'description' });
    assert.deepEqual(
      described.map((x) => x.mode),
      ['description', 'description'],
    );
    assert.notDeepEqual(
      described.map((x) => x.score),
      reference.map((x) => x.score),
    );
    // The training recognition it stores (the CodeLens shows it) is what recognize answers on its
    // training photos and negatives, not the figure at the threshold that picked the epoch.
    const train = await recognize(file, [...r.data.positives, ...r.data.negatives.map((n) => n.file)]);
    const said = accuracy(
      train.slice(0, r.data.positives.length).map((x) => x.score),
      train.slice(r.data.positives.length).map((x) => x.score),
      0,
    );
    assert.equal(meta.metrics['train_recognition_raw_weighted'], said.weighted);
    // ... which here differs from the figure at its own threshold, so the check can tell them apart.
    assert.notEqual(meta.metrics['train_recognition_weighted'], said.weighted);
    assert.equal(meta.metrics['train_recognition_raw_positive'], said.positive);
    assert.equal(trainingRecognition(meta)?.weighted, said.weighted);
    assert.equal(r.history.at(-1)!.raw?.weighted, said.weighted);
  });
});
