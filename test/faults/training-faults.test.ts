// Faults around training, against the real language server over stdio on a tiny model: a save storm, the
// server killed (-9) in the middle of a run, a full disk while the concept is written, and a trained
// concept corrupted on disk. Each must leave the user's previous concept byte-identical and say what
// happened.
import {
  CancelJobRequest,
  ChatRequest,
  JobStateNotification,
  TrainingRunRequest,
  TrainRequest,
} from '../../server/src/protocol';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { writeSubjectWorkspace } from '../../server/src/engine/toyworld/workspace';
import { LspClient } from '../helpers/lsp-client';
import { writeTinyPersonalizationModel } from '../helpers/tiny-model';

const root = path.join(__dirname, '..', '..');
if (!existsSync(path.join(root, 'dist', 'server.js')))
  spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });

interface JobState {
  kind: string;
  state: string;
  message: string;
  run?: { epochs: { epoch: number }[] };
}

async function workspace(epochs: number): Promise<{ ws: string; file: string }> {
  const ws = mkdtempSync(path.join(tmpdir(), 'yollava-faults-'));
  writeTinyPersonalizationModel(path.join(ws, 'model'));
  const file = await writeSubjectWorkspace(ws, {
    name: 'bo',
    object: { kind: 'mug', color: 'red', pattern: 'striped', accessory: 'none' },
    train: 4,
    test: 2,
    negatives: 8,
    hard: 3,
    random: 3,
    model: '../model',
    extraYaml: `training:\n  epochs: ${epochs}\n  tokens: 4\n`,
  });
  return { ws, file };
}

async function openClient(ws: string, file: string): Promise<{ client: LspClient; uri: string }> {
  const client = await LspClient.start(ws, { trainOnSave: true });
  const uri = client.open(file, readFileSync(file, 'utf8'));
  await client.waitFor(uri, (d) => !d.some((x) => x.severity === 1), 20_000);
  return { client, uri };
}

const trainStates = (c: LspClient): JobState[] =>
  c.received(JobStateNotification).filter((s) => s.kind === 'train');

const conceptDir = (ws: string): string => path.join(ws, 'bo', '.yollava', 'bo');
/** The weights file concept.json names (its name carries a content hash). */
const weightsFile = (ws: string): string =>
  path.join(
    conceptDir(ws),
    (JSON.parse(readFileSync(path.join(conceptDir(ws), 'concept.json'), 'utf8')) as { weightsFile: string })
      .weightsFile,
  );
const conceptBytes = (ws: string): string =>
  [path.join(conceptDir(ws), 'concept.json'), weightsFile(ws)]
    .map((f) => readFileSync(f).toString('base64'))
    .join('|');

describe('training faults', { timeout: 10 * 60_000 }, () => {
  it('a save storm (50 saves in 5 s) trains exactly once, on the final content', async () => {
    const { ws, file } = await workspace(2);
    const { client, uri } = await openClient(ws, file);
    try {
      const text = readFileSync(file, 'utf8');
      for (let i = 0; i < 50; i++) {
        // The last save changes the token count: the trained concept shows which content it saw.
        writeFileSync(file, i === 49 ? text.replace('tokens: 4', 'tokens: 3') : `${text}# save ${i}\n`);
        client.save(uri);
        await new Promise((r) => setTimeout(r, 100));
      }
      const done = await client.until('the training', () =>
        trainStates(client).find((s) => s.state === 'done'),
      );
      assert.ok(done);
      // Nothing else is queued after it: the server answers this request after handling every save above,
      // and the subject's run is still the finished one.
      const run = await client.request(TrainingRunRequest, { uri });
      assert.equal(run?.state, 'done');
      assert.equal(trainStates(client).filter((s) => s.message === 'train started').length, 1);
      assert.equal(trainStates(client).filter((s) => s.state === 'queued').length, 50);
      const meta = JSON.parse(
        readFileSync(path.join(ws, 'bo', '.yollava', 'bo', 'concept.json'), 'utf8'),
      ) as { k: number };
      assert.equal(meta.k, 3);
    } finally {
      await client.stop();
    }
  });

  it('kill -9 of the server mid-run keeps the previous concept, and the next run resumes by itself', async () => {
    const { ws, file } = await workspace(2);
    let { client, uri } = await openClient(ws, file);
    await client.request(TrainRequest, { uri });
    const before = conceptBytes(ws);
    await client.stop();
    // A long run this time; the server dies after its second epoch's checkpoint.
    writeFileSync(file, readFileSync(file, 'utf8').replace('epochs: 2', 'epochs: 60'));
    ({ client, uri } = await openClient(ws, file));
    client.save(uri);
    await client.until('two epochs', () => trainStates(client).some((s) => (s.run?.epochs.length ?? 0) >= 2));
    client.proc.kill('SIGKILL');
    await new Promise((r) => client.proc.once('exit', r));
    assert.equal(conceptBytes(ws), before, 'the previous concept is byte-identical');
    ({ client, uri } = await openClient(ws, file));
    try {
      client.save(uri);
      const first = await client.until(
        'the resumed run to finish an epoch',
        () => trainStates(client).find((s) => (s.run?.epochs.length ?? 0) >= 1)?.run?.epochs[0]?.epoch,
      );
      assert.ok(first >= 3, `the run resumed after the checkpoints (first epoch ${first})`);
      await client.request(CancelJobRequest, { uri, kind: 'train' });
      assert.equal(conceptBytes(ws), before);
    } finally {
      await client.stop();
    }
  });

  it('a full disk while the concept is written: the previous concept stays and the error says so', async (t) => {
    const { ws, file } = await workspace(2);
    const { client, uri } = await openClient(ws, file);
    const artifacts = path.join(ws, 'bo', '.yollava');
    try {
      await client.request(TrainRequest, { uri });
      const before = conceptBytes(ws);
      // Put the artifact folder on a tiny tmpfs holding a copy of the concept, then fill it.
      const saved = mkdtempSync(path.join(tmpdir(), 'yollava-saved-'));
      spawnSync('cp', ['-a', `${artifacts}/.`, saved]);
      const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', artifacts], {
        encoding: 'utf8',
      });
      if (mount.status !== 0) {
        t.skip(`a tmpfs cannot be mounted here (${mount.stderr.trim()}): run the faults suite as root`);
        return;
      }
      try {
        spawnSync('cp', ['-a', `${saved}/.`, artifacts]);
        assert.equal(conceptBytes(ws), before);
        spawnSync('dd', ['if=/dev/zero', `of=${path.join(artifacts, 'filler')}`, 'bs=4k'], {
          encoding: 'utf8',
        });
        await assert.rejects(client.request(TrainRequest, { uri }), /ENOSPC|no space/i);
        assert.equal(conceptBytes(ws), before, 'the previous concept is byte-identical');
        const shown = client.received<{ type: number; message: string }>('window/showMessage');
        assert.ok(shown.some((m) => m.type === 1 && /ENOSPC|no space/i.test(m.message)));
      } finally {
        spawnSync('umount', ['-l', artifacts]);
      }
    } finally {
      await client.stop();
    }
  });

  it('a corrupt trained concept gives a clear error and an offer to retrain, which works', async () => {
    const { ws, file } = await workspace(2);
    const { client, uri } = await openClient(ws, file);
    try {
      await client.request(TrainRequest, { uri });
      truncateSync(weightsFile(ws), 10);
      client.answerMessage = (m) => m.actions?.find((a) => a.title === 'Retrain') ?? null;
      const startedBefore = trainStates(client).filter((s) => s.message === 'train started').length;
      await assert.rejects(
        client.request(ChatRequest, { chatId: 'x', uri, question: 'What is <bo>?', history: [] }),
        /concept-[0-9a-f]+\.safetensors: this concept cannot be used: the weights do not match concept\.json/,
      );
      const offer = client
        .received<{ message: string; actions?: { title: string }[] }>('window/showMessage')
        .find((m) => m.actions?.some((a) => a.title === 'Retrain'));
      assert.match(
        offer?.message ?? '',
        /the trained concept of bo\.subject\.yaml cannot be used: the weights do not match concept\.json \(sha256\); retrain the subject$/,
      );
      await client.until(
        'the retraining',
        () =>
          trainStates(client).filter((s) => s.state === 'done').length > 0 &&
          trainStates(client).filter((s) => s.message === 'train started').length > startedBefore,
      );
      await client.until(
        'the retraining to end',
        () => trainStates(client).filter((s) => s.state === 'done').length >= 2,
      );
      const a = await client.request(ChatRequest, {
        chatId: 'y',
        uri,
        question: 'What is <bo>?',
        history: [],
      });
      assert.deepEqual(
        a.modes.map((m) => m.mode),
        ['trained'],
      );
    } finally {
      await client.stop();
    }
  });
});
