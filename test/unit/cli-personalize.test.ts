// The personalization commands of the yollava CLI, as a user runs them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { RED_MUG, writeTinyPersonalizationModel } from '../helpers/tiny-model';
import { writeSubjectWorkspace } from '../../server/src/engine/toyworld/workspace';

const root = path.join(__dirname, '..', '..');
const cli = path.join(root, 'dist', 'cli.js');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: root });

describe('yollava validate | train | eval | recognize | chat', () => {
  let ws = '';
  let bo = '';
  let mam = '';
  before(async () => {
    if (!existsSync(cli)) spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
    ws = mkdtempSync(path.join(tmpdir(), 'yollava-cli-'));
    writeTinyPersonalizationModel(path.join(ws, 'model'));
    const training = 'training:\n  epochs: 2\n  tokens: 4\n';
    bo = await writeSubjectWorkspace(ws, {
      name: 'bo',
      object: RED_MUG,
      train: 4,
      test: 2,
      negatives: 20,
      hard: 6,
      random: 6,
      model: '../model',
      extraYaml: training,
    });
    mam = await writeSubjectWorkspace(ws, {
      name: 'mam',
      object: { kind: 'lamp', color: 'blue', pattern: 'dotted', accessory: 'hat' },
      train: 3,
      test: 2,
      negatives: 0,
      hard: 6,
      random: 6,
      model: '../model',
      seed: 4,
      extraYaml: training,
    });
  });

  it('validate: exit 0 on good files; on errors exit 1 and file:line:column: message', () => {
    assert.equal(run('validate', bo, mam).status, 0);
    const broken = path.join(ws, 'bo', 'broken.subject.yaml');
    writeFileSync(
      broken,
      readFileSync(bo, 'utf8')
        .replace('category: object', 'category: vase')
        .replace('train: photos/train', 'train: photos/nope'),
    );
    const r = run('validate', broken);
    assert.equal(r.status, 1);
    assert.match(
      r.stdout,
      new RegExp(
        `^${broken.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2:11: error: category: must be one of`,
        'm',
      ),
    );
    writeFileSync(broken, readFileSync(bo, 'utf8').replace('train: photos/train', 'train: photos/nope'));
    assert.match(
      run('validate', broken).stdout,
      /broken\.subject\.yaml:5:10: error: images\.train: folder "photos\/nope" not found/,
    );
    const j = JSON.parse(run('validate', broken, '--json').stdout);
    assert.equal(j.ok, false);
    writeFileSync(broken, '');
    assert.equal(run('validate', broken).status, 1);
    // The editor's dataset checks run too: a test photo that is a training photo is leakage.
    const leak = path.join(ws, 'bo', 'photos', 'test', '099.png');
    copyFileSync(path.join(ws, 'bo', 'photos', 'train', '000.png'), leak);
    const l = run('validate', bo);
    assert.equal(l.status, 1);
    assert.match(
      l.stdout,
      /bo\.subject\.yaml:6:\d+: error: images\.test: 1 test photo\(s\) also in training \(099\.png is 000\.png\)/,
    );
    rmSync(leak);
    rmSync(broken);
  });

  it('validate warns of a subject without negatives, unless --pools gives default ones', () => {
    const lonely = path.join(ws, 'bo', 'lonely.subject.yaml');
    writeFileSync(
      lonely,
      readFileSync(bo, 'utf8')
        .replace(/name: bo/, 'name: lonely')
        .replace(/negatives:\n( {2}.*\n)+/, ''),
    );
    try {
      const r = run('validate', lonely);
      assert.equal(r.status, 0, r.stdout);
      assert.match(
        r.stdout,
        /lonely\.subject\.yaml:1:\d+: warning: negatives: no negative pool: .*recognition 0\.50/,
      );
      const withPools = run('validate', lonely, '--pools', path.join(ws, 'negatives'));
      assert.doesNotMatch(withPools.stdout, /no negative pool/);
    } finally {
      rmSync(lonely);
    }
  });

  it('train --json writes the artifact and reports data, history and timings', () => {
    const r = run('train', bo, '--json');
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.meta.name, 'bo');
    assert.equal(j.history.length, 2);
    for (const k of ['total', 'embed', 'conversations', 'train']) assert.equal(typeof j.seconds[k], 'number');
    assert.ok(existsSync(path.join(ws, 'bo', '.yollava', 'bo', 'concept.json')));
    assert.equal(run('train', mam).status, 0);
  });

  it('train: a photo that does not decode is left out with a warning, and the others train', () => {
    const broken = path.join(ws, 'bo', 'photos', 'train', '900.png');
    writeFileSync(broken, 'definitely not an image');
    try {
      const r = run('train', bo, '--json', '--fresh');
      assert.equal(r.status, 0, r.stderr);
      const j = JSON.parse(r.stdout);
      assert.deepEqual(
        j.data.skipped.map((x: { file: string }) => path.basename(x.file)),
        ['900.png'],
      );
      assert.ok(!j.data.positives.some((f: string) => f.endsWith('900.png')));
      const human = run('train', bo, '--fresh');
      assert.match(
        human.stdout,
        /warning {3}1 photo\(s\) or pool image\(s\) cannot be decoded and were left out: 900\.png/,
      );
    } finally {
      rmSync(broken);
    }
  });

  it('eval --json has the recognition keys and baselines; QA when a question file exists', () => {
    writeFileSync(
      bo.replace('.subject.yaml', '.qa.json'),
      JSON.stringify({
        visual: [
          {
            image: 'photos/test/000.png',
            question: 'What is <name>?',
            options: ['a mug', 'a ball'],
            answer: 0,
          },
        ],
        text: [{ question: 'What color is <name>?', options: ['red', 'blue'], answer: 0 }],
      }),
    );
    const r = run('eval', bo, '--json');
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    for (const k of [
      'recognition_positive',
      'recognition_negative',
      'recognition_weighted',
      'visual_qa',
      'text_qa',
    ]) {
      assert.ok(j[k] >= 0 && j[k] <= 1, `${k} = ${j[k]}`);
    }
    // Both option orders: the one item's answer is right or wrong as a whole.
    for (const k of ['visual_qa', 'text_qa'])
      assert.ok([0, 1].includes(j.calibrated[k]), `${k} ${j.calibrated[k]}`);
    assert.equal(j.recognition_weighted, (j.recognition_positive + j.recognition_negative) / 2);
    assert.equal(j.counts.negatives_other_subjects, 2, "the other subject's test photos are negatives");
    assert.ok(j.baselines.base_model && j.baselines.description_prompt);
  });

  it('recognize and chat (two subjects in one prompt)', () => {
    const r = run('recognize', bo, path.join(ws, 'bo', 'photos', 'test'), '--json');
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.length, 2);
    assert.equal(typeof j[0].present, 'boolean');
    const c = run('chat', bo, mam, '--ask', 'what is <bo> next to ?', '--json');
    assert.equal(c.status, 0, c.stderr);
    assert.equal(typeof JSON.parse(c.stdout).answer, 'string');
  });

  it('validate skips dangling links beside the subject and among its photos', () => {
    const links = [path.join(ws, 'dangling'), path.join(ws, 'bo', 'photos', 'train', 'zz.png')];
    symlinkSync('/nonexistent-yollava-target', links[0]!);
    symlinkSync('/nonexistent-yollava-target.png', links[1]!);
    try {
      const r = run('validate', bo);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.doesNotMatch(r.stdout + r.stderr, /ENOENT/);
    } finally {
      for (const l of links) rmSync(l);
    }
  });

  it('eval before training says to train first; eval of a missing file names it', () => {
    const untrained = mkdtempSync(path.join(tmpdir(), 'yollava-cli-untrained-'));
    const ghost = path.join(untrained, 'ghost.subject.yaml');
    const r = run('eval', ghost);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /ghost\.subject\.yaml: not found/);
    rmSync(path.join(ws, 'mam', '.yollava'), { recursive: true });
    const e = run('eval', mam);
    assert.notEqual(e.status, 0);
    assert.match(e.stderr, /no trained concept here .*train the subject first/);
  });
});
