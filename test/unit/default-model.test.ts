// The embedded default model: found without configuration, used by the CLI and the language server when
// a subject names no model, and a clear message when it is missing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LlavaModel } from '../../server/src/engine/models/llava/model';
import { readLlavaConfig } from '../../server/src/engine/models/llava/config';
import { loadLlavaWeights } from '../../server/src/engine/models/llava/weights';
import { defaultModelDir } from '../../server/src/engine/toyworld/default-model';
import { PretrainEncoder } from '../../server/src/engine/toyworld/pretrain-batch';
import { evaluateSkills } from '../../server/src/engine/toyworld/skill-eval';
import { writeSubjectWorkspace } from '../../server/src/engine/toyworld/workspace';
import { LspClient } from '../helpers/lsp-client';
import { RED_MUG, writeTinyPersonalizationModel } from '../helpers/tiny-model';

const root = path.join(__dirname, '..', '..');
const cli = path.join(root, 'dist', 'cli.js');
const run = (env: Record<string, string>, ...args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    cwd: root,
    env: { ...process.env, ...env },
  });

describe('the embedded default model', () => {
  let ws = '';
  let tiny = '';
  let file = '';
  before(async () => {
    ws = mkdtempSync(path.join(tmpdir(), 'yollava-default-'));
    tiny = path.join(ws, 'tiny');
    writeTinyPersonalizationModel(tiny);
    file = await writeSubjectWorkspace(ws, {
      name: 'bo',
      object: RED_MUG,
      train: 3,
      test: 0,
      negatives: 8,
      hard: 3,
      random: 3,
      extraYaml: 'training:\n  epochs: 1\n  tokens: 2\n',
    });
    assert.doesNotMatch(readFileSync(file, 'utf8'), /^model:/m);
  });

  it('is samples/models/toy-llava, and it loads as a Hugging Face LLaVA', async () => {
    const dir = defaultModelDir();
    assert.equal(dir, path.join(root, 'samples', 'models', 'toy-llava'));
    const model = LlavaModel.load(dir!);
    assert.equal(model.config.imageTokens, 16);
    await model.release();
    assert.ok(existsSync(path.join(dir!, 'TRAINING.md')));
  });

  it('tells whether a photo shows what a description names, on held-out samples, far above chance', async () => {
    // The skill the Yo'LLaVA recipe works through. The committed model scores 0.860 on 200 such samples
    // (TRAINING.md); the base run before the decision probes scored 0.475.
    const dir = defaultModelDir()!;
    const config = readLlavaConfig(dir);
    const scores = await evaluateSkills(
      config,
      loadLlavaWeights(dir, config),
      PretrainEncoder.load(config, dir),
      {
        samplesPerSkill: 64,
        threads: 1,
        skills: ['name_description'],
      },
    );
    const s = scores.name_description!;
    assert.ok(s.accuracy >= 0.75, `accuracy ${s.accuracy}`);
    assert.ok(s.auc! >= 0.8, `AUC ${s.auc}`);
  });

  it('the CLI trains a subject that names no model on the default', () => {
    const r = run({ YOLLAVA_DEFAULT_MODEL: tiny }, 'train', file, '--json');
    assert.equal(r.status, 0, r.stderr);
    const { artifactDir } = JSON.parse(r.stdout) as { artifactDir: string };
    const meta = JSON.parse(readFileSync(path.join(artifactDir, 'concept.json'), 'utf8'));
    assert.equal(path.resolve(meta.baseModel.dir), path.resolve(tiny));
  });

  it('without any model the CLI says what is missing and how to build it', () => {
    const empty = path.join(ws, 'empty');
    mkdirSync(empty);
    const r = run({ YOLLAVA_DEFAULT_MODEL: empty }, 'train', file);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /bo\.subject\.yaml: model: no model folder given.*npm run pretrain/s);
  });

  describe('in the language server', () => {
    let client: LspClient;
    after(async () => client?.stop());
    it("checks a subject's name against the default model's vocabulary", async () => {
      client = await LspClient.start(ws);
      const text = readFileSync(file, 'utf8').replace('name: bo', 'name: dog');
      const uri = client.open(file, text);
      const d = await client.waitFor(uri, (ds) => ds.some((x) => x.code === 'name-in-vocabulary'));
      assert.match(
        String(d.find((x) => x.code === 'name-in-vocabulary')!.message),
        /"dog" is already a word/,
      );
    });
  });
});
