// What a trained concept says of itself: training stores the concept's own one-sentence answer to
// "Describe <bo> in one sentence." for the editor and the CLI to show; chat keeps the soft prompt. On the
// default model, which answers in sentences that name the subject.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { artifactDir, loadConcept } from '../../server/src/engine/personalize/concept';
import { evaluateSubject } from '../../server/src/engine/personalize/evaluate';
import { openSubject, personalize } from '../../server/src/engine/personalize/personalize';
import { describeItself } from '../../server/src/engine/personalize/self-description';
import { chat } from '../../server/src/engine/personalize/use';
import { LlavaModel } from '../../server/src/engine/models/llava/model';
import { defaultModelDir } from '../../server/src/engine/toyworld/default-model';
import { writeSubjectWorkspace } from '../../server/src/engine/toyworld/workspace';
import { RED_MUG } from '../helpers/tiny-model';

describe('what a trained concept says of itself', () => {
  let model: LlavaModel;
  let file = '';
  let conceptJson = '';
  before(async () => {
    model = LlavaModel.load(defaultModelDir()!);
    const ws = mkdtempSync(path.join(tmpdir(), 'yollava-self-'));
    file = await writeSubjectWorkspace(ws, {
      name: 'bo',
      object: RED_MUG,
      train: 3,
      test: 1,
      negatives: 4,
      hard: 1,
      random: 1,
    });
    await personalize(file, {
      model,
      overrides: { epochs: 4, tokens: 2, questionsPerPhoto: 4, conversationTokens: 12 },
    });
    conceptJson = path.join(artifactDir(path.dirname(file), 'bo'), 'concept.json');
  });
  after(() => model.release());

  const meta = (): Record<string, unknown> => JSON.parse(readFileSync(conceptJson, 'utf8'));
  const ask = async (question: string): Promise<string> => {
    let answer = '';
    for await (const d of chat([file], question, { model, maxNewTokens: 8 })) answer += d;
    return answer.trim();
  };

  it("training stores the concept's own greedy answer, naming <bo>", async () => {
    const stored = meta()['selfDescription'];
    assert.equal(typeof stored, 'string');
    assert.match(stored as string, /<bo>/);
    const s = openSubject(file, { model });
    const { concept } = loadConcept(artifactDir(s.workspaceDir, 'bo'), model);
    assert.equal(concept.selfDescription, stored);
    assert.equal(await describeItself(model, s.ctx, concept), stored);
  });

  it('chat keeps asking after the soft prompt: the stored sentence does not change its answers', async () => {
    const before = await ask('What color is <bo>?');
    writeFileSync(conceptJson, JSON.stringify({ ...meta(), selfDescription: '<bo> is a green dotted car.' }));
    assert.equal(await ask('What color is <bo>?'), before);
  });

  it('evaluation reports the sentence with the concept', async () => {
    const e = await evaluateSubject(file, { model, maxPoolNegatives: 2 });
    assert.equal(e.concept.selfDescription, meta()['selfDescription']);
  });
});
