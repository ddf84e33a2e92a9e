// How often each photo of the training data is asked whether the subject is in it (recipe revision 3):
// the hard negatives, the photos most like the subject, weigh as much as the subject's own photos.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { buildTrainingData } from '../../server/src/engine/personalize/data-builder';
import { openSubject } from '../../server/src/engine/personalize/personalize';
import { conceptTokens } from '../../server/src/engine/personalize/prompts';
import { Rng } from '../../server/src/engine/util/rng';

const subjectFile = path.join(__dirname, '..', '..', 'samples', 'bo', 'bo.subject.yaml');

describe('recognition questions per photo', () => {
  it('ten per training photo, three per hard negative, one per random negative', async () => {
    const s = openSubject(subjectFile, { workspaceDir: mkdtempSync(path.join(tmpdir(), 'yollava-rq-')) }, 4);
    try {
      const data = await buildTrainingData(
        s.model,
        s.tokenizer,
        s.ctx,
        s.store,
        conceptTokens(s.subject.name, 4, s.model.vocab),
        {
          train: s.subject.train,
          pool: s.subject.pools,
          hard: 6,
          random: 5,
          category: s.subject.category,
          conversations: false,
        },
        new Rng(5),
      );
      const asked = new Map<string, number>();
      for (const x of data.samples) if (x.image) asked.set(x.image, (asked.get(x.image) ?? 0) + 1);
      const counts = (files: string[]) => [...new Set(files.map((f) => asked.get(f)))];
      assert.deepEqual(counts(data.positives), [10]);
      const of = (kind: string) => data.negatives.filter((n) => n.kind === kind).map((n) => n.file);
      assert.equal(of('hard').length, 6);
      assert.deepEqual(counts(of('hard')), [3]);
      assert.deepEqual(counts(of('random')), [1]);
      assert.equal(data.samples.length, 10 * data.positives.length + 3 * 6 + 5);
    } finally {
      await s.model.release();
    }
  });
});
