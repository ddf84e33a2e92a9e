// Recognition, chat and training on anyres models (LLaVA-NeXT, OneVision), through the product's own entry
// points: each photo packed as the model's processor does, each image given its own number of tokens in
// the prompt, and the answer depending on the photo asked about.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { imageTokenCount } from '../../server/src/engine/models/llava/anyres';
import { decodeRgb } from '../../server/src/engine/models/llava/image-processor';
import { LlavaModel } from '../../server/src/engine/models/llava/model';
import { writeTinyLlava, writeTinyTokenizer } from '../../server/src/engine/models/llava/random-checkpoint';
import { ImageFeatureStore } from '../../server/src/engine/personalize/image-features';
import { templateWords } from '../../server/src/engine/personalize/templates';
import { personalize } from '../../server/src/engine/personalize/personalize';
import { chat, recognize } from '../../server/src/engine/personalize/use';
import { writeSubjectWorkspace } from '../../server/src/engine/toyworld/workspace';

for (const family of ['llava_next', 'llava_onevision'] as const) {
  describe(`instant mode on ${family}`, () => {
    let ws = '';
    let file = '';
    let model: LlavaModel;
    before(async () => {
      ws = mkdtempSync(path.join(os.tmpdir(), `yollava-${family}-instant-`));
      const dir = path.join(ws, 'model');
      writeTinyLlava(dir, {
        family,
        ...(family === 'llava_onevision'
          ? {
              visionAspectRatio: 'anyres_max_1',
              vision: { kind: 'siglip' as const, imageSize: 28, patchSize: 7 },
            }
          : { vision: { imageSize: 28, patchSize: 7 } }),
        text: { vocab: 512, ...(family === 'llava_onevision' ? { modelType: 'qwen2' as const } : {}) },
        seed: 5,
      });
      writeTinyTokenizer(dir, 512, templateWords());
      file = await writeSubjectWorkspace(ws, {
        name: 'bo',
        object: { kind: 'mug', color: 'red', pattern: 'striped', accessory: 'none' },
        train: 3,
        test: 2,
        negatives: 2,
        model: '../model',
        size: 48,
        extraYaml: 'training:\n  epochs: 1\n  tokens: 2\n',
      });
      model = LlavaModel.load(dir);
    });
    after(async () => {
      await model.release();
      rmSync(ws, { recursive: true, force: true });
    });

    it('recognize scores every photo, and the score depends on the photo', async () => {
      const photos = ['000.png', '001.png'].map((f) => path.join(ws, 'bo', 'photos', 'test', f));
      const negative = path.join(ws, 'negatives', '000.png');
      const r = await recognize(file, [...photos, negative], { model, mode: 'reference' });
      assert.deepEqual(
        r.map((x) => x.mode),
        ['reference', 'reference', 'reference'],
      );
      assert.ok(r.every((x) => Number.isFinite(x.score)));
      assert.notEqual(r[0]!.score, r[2]!.score, 'another photo gives another score');
    });

    it("each photo's features hold the processor's token count for a prompt of 1 + 3 images", async () => {
      const photo = path.join(ws, 'bo', 'photos', 'test', '000.png');
      const img = await decodeRgb(photo);
      const [f] = await new ImageFeatureStore(model, null).projected([photo], undefined, 4);
      const c = model.config;
      assert.equal(
        f!.length / model.hidden,
        imageTokenCount([img.height, img.width], c.vision.imageSize, c.vision.patchSize, c.anyres!, 4),
      );
    });

    it('trains a concept (each photo its own token count), which recognition and chat then use', async () => {
      const r = await personalize(file, { model });
      assert.equal(r.meta.name, 'bo');
      assert.ok(r.history.length === 1 && r.history.every((h) => Number.isFinite(h.meanLoss)));
      const photos = ['000.png', '001.png'].map((f) => path.join(ws, 'bo', 'photos', 'test', f));
      const scores = await recognize(file, photos, { model, mode: 'trained' });
      assert.deepEqual(
        scores.map((x) => x.mode),
        ['trained', 'trained'],
      );
      assert.ok(scores.every((x) => Number.isFinite(x.score)));
    });

    it('chat answers with a photo and the reference photos in one prompt', async () => {
      let answer = '';
      for await (const d of chat([file], 'what is <bo> ?', {
        model,
        mode: 'reference',
        image: path.join(ws, 'bo', 'photos', 'test', '001.png'),
        maxNewTokens: 4,
        temperature: 0,
      }))
        answer += d;
      assert.equal(typeof answer, 'string');
    });
  });
}
