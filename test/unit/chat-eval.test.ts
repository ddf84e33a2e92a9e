// The chat benchmark's scoring (engine/toyworld/chat-eval.ts) on the answers a new user saw: a right
// answer states the truth and nothing false of its kind, and a bare letter or "this image shows this
// image" is never right.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  followUpQuestions,
  isNonSentence,
  photoQuestions,
  scoreAnswer,
  singleTurnQuestions,
  twoSubjectQuestions,
  type ChatQuestion,
  type ChatSubject,
} from '../../server/src/engine/toyworld/chat-eval';
import type { ObjectInstance } from '../../server/src/engine/toyworld/world';

const details: ObjectInstance['details'] = {
  aspect: 1,
  partScale: 1,
  patternPhase: [0, 0],
  patternSpacing: 1,
  stripeAngle: 30,
  markSpot: 0,
  markTone: 0,
};
const bo: ChatSubject = {
  name: 'bo',
  object: { kind: 'dog', color: 'blue', pattern: 'dotted', accessory: 'bow', accessoryColor: 'red', details },
};
const nezi: ChatSubject = {
  name: 'nezi',
  object: {
    kind: 'house',
    color: 'red',
    pattern: 'plain',
    accessory: 'none',
    accessoryColor: 'red',
    details,
  },
};

const find = (qs: ChatQuestion[], question: string): ChatQuestion => {
  const q = qs.find((x) => x.question === question);
  assert.ok(q, `no question "${question}" in ${qs.map((x) => x.question).join(' | ')}`);
  return q;
};

describe('chat scoring', () => {
  it('scores the answers from the issue as a user would', () => {
    const single = singleTurnQuestions(bo);
    const color = find(single, 'What color is <bo>?').expect;
    assert.equal(scoreAnswer('<bo> is blue.', color), true);
    // The bow is red: naming it is no mistake; a colour bo has nowhere is.
    assert.equal(scoreAnswer('<bo> is blue with a red bow.', color), true);
    assert.equal(scoreAnswer('<bo> is green.', color), false);
    const wearing = find(followUpQuestions(bo), 'And what is it wearing?');
    assert.equal(wearing.history[0]!.question, 'What color is <bo>?');
    // The answer: the bow is red, and "A" stands where <bo> should.
    assert.equal(scoreAnswer('A wears a blue bow.', wearing.expect), false);
    assert.equal(scoreAnswer('It wears a blue bow.', wearing.expect), false, 'the bow is red, not blue');
    assert.equal(scoreAnswer('It wears a red bow.', wearing.expect), true);
    assert.equal(scoreAnswer('<bo> is a blue dotted dog with a red bow.', wearing.expect), true);
    assert.equal(scoreAnswer('<bo> is a red dotted dog.', color), false, 'the dog is blue');
    assert.equal(scoreAnswer('It wears a hat.', wearing.expect), false);
    assert.equal(scoreAnswer('A', wearing.expect), false);
    const kind = find(single, 'What kind of thing is <bo>?').expect;
    assert.equal(scoreAnswer('<bo> is made of fur.', kind), false);
    assert.equal(scoreAnswer('<bo> is a dog.', kind), true);
    assert.equal(scoreAnswer('<bo> is a dog, not a cat.', kind), false, 'a false kind named is wrong');
    // nezi wears nothing: saying so is right, naming an accessory is not.
    const nothing = find(singleTurnQuestions(nezi), 'What is <nezi> wearing?').expect;
    assert.equal(scoreAnswer('<nezi> is not wearing anything.', nothing), true);
    assert.equal(scoreAnswer('<nezi> wears a scarf.', nothing), false);
  });

  it('two subjects: the first one named must be the right one; yes/no must match', () => {
    const qs = twoSubjectQuestions(bo, nezi);
    const which = find(qs, 'Which one is blue, <bo> or <nezi>?').expect;
    assert.equal(scoreAnswer('<bo> is blue, <nezi> is red.', which), true);
    assert.equal(scoreAnswer('<nezi> is blue.', which), false);
    assert.equal(scoreAnswer('B.', which), false);
    const same = find(qs, 'Are <bo> and <nezi> the same kind?').expect;
    assert.equal(scoreAnswer('No, <bo> is a dog and <nezi> is a house.', same), true);
    assert.equal(scoreAnswer('Yes.', same), false);
  });

  it('photo questions: present and absent', () => {
    const qs = photoQuestions(bo);
    const present = qs.find((q) => q.photo === 'own' && q.skill === 'present')!.expect;
    const absent = qs.find((q) => q.photo === 'other' && q.skill === 'absent')!.expect;
    assert.equal(scoreAnswer('Yes, <bo> is in the photo.', present), true);
    assert.equal(scoreAnswer('No, <bo> is not in the picture.', present), false);
    assert.equal(scoreAnswer('No, <bo> is not in the picture.', absent), true);
  });

  it('non-sentences: bare letters and the degenerate phrase', () => {
    for (const a of ['A', 'B.', '', 'Yes, this image shows this image.'])
      assert.equal(isNonSentence(a), true, a);
    for (const a of ['A dog.', 'Yes.', '<bo> is blue.']) assert.equal(isNonSentence(a), false, a);
    const any = find(singleTurnQuestions(bo), 'What color is <bo>?').expect;
    assert.equal(scoreAnswer('Yes, this image shows this image.', any), false);
  });
});
