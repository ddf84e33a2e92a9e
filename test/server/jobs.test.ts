// The language server's jobs over stdio, driven by a real LSP client on a tiny model: train on save
// (one run for a burst of saves, none for auto-saves), work-done progress with percent and loss, the
// CodeLens refreshed live, cancellation and failure that keep the previous concept, the recognition
// preview with labels, and chat that streams from a model kept warm.
import {
  type ChatParams,
  ChatDeltaNotification,
  ChatRequest,
  JobStateNotification,
  NO_PHOTOS_TO_SCORE,
  RecognizeRequest,
  SavedByHandNotification,
  TrainRequest,
  TrainingRunRequest,
} from '../../server/src/protocol';
import assert from 'node:assert/strict';
import { CancellationTokenSource } from 'vscode-languageserver-protocol';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { writeSubjectWorkspace } from '../../server/src/engine/toyworld/workspace';
import { LspClient } from '../helpers/lsp-client';
import { writeTinyPersonalizationModel } from '../helpers/tiny-model';

const root = path.join(__dirname, '..', '..');

interface JobState {
  uri: string;
  kind: string;
  state: string;
  message: string;
  run?: {
    percent: number;
    losses: { from: number; to: number; n: number }[];
    lastLoss?: number;
    epochs: { recognition: number }[];
  };
}

describe('language server jobs', () => {
  let ws = '';
  let file = '';
  let uri = '';
  let client: LspClient;

  before(async () => {
    if (!existsSync(path.join(root, 'dist', 'server.js')))
      spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
    ws = mkdtempSync(path.join(tmpdir(), 'yollava-jobs-'));
    writeTinyPersonalizationModel(path.join(ws, 'model'));
    file = await writeSubjectWorkspace(ws, {
      name: 'bo',
      object: { kind: 'mug', color: 'red', pattern: 'striped', accessory: 'none' },
      train: 4,
      test: 2,
      negatives: 12,
      hard: 4,
      random: 4,
      model: '../model',
      extraYaml: 'training:\n  epochs: 2\n  tokens: 4\n',
    });
    client = await LspClient.start(ws, { trainOnSave: true });
    uri = client.open(file, readFileSync(file, 'utf8'));
    await client.waitFor(uri, (d) => !d.some((x) => x.severity === 1), 20_000);
  });
  after(async () => {
    if (process.env.SHOW_STDERR) console.error(client.stderr.join(''));
    await client.stop();
  });

  const states = (kind = 'train'): JobState[] =>
    client.received(JobStateNotification).filter((s) => s.kind === kind);

  it('three saves in a row train once, with percent and loss in the progress and a live CodeLens', async () => {
    client.save(uri);
    client.save(uri);
    client.save(uri);
    const done = await client.until('the training to end', () =>
      states().find((s) => s.state === 'done' || s.state === 'failed'),
    );
    assert.equal(done.state, 'done', done.message);
    assert.equal(states().filter((s) => s.state === 'running' && s.message === 'train started').length, 1);
    assert.equal(states().filter((s) => s.state === 'done').length, 1);
    assert.match(done.message, /^trained <bo> in [\d.]+ s · recognition [\d.]+ on its training photos$/);
    // Work-done progress: created by the server, begun cancellable, reported with percent and loss, and
    // ended. The end follows the done state on the wire, so on a loaded machine it can arrive after it.
    assert.ok(client.received('window/workDoneProgress/create').length >= 1);
    type Progress = {
      value: { kind: string; title?: string; percentage?: number; message?: string; cancellable?: boolean };
    };
    await client.until('the progress to end', () =>
      client.received<Progress>('$/progress').find((p) => p.value.kind === 'end'),
    );
    const progress = client.received<Progress>('$/progress');
    assert.ok(progress.some((p) => p.value.kind === 'begin' && p.value.cancellable === true));
    // Titled by the subject's name: field, not its file name.
    assert.ok(progress.some((p) => p.value.kind === 'begin' && p.value.title === 'Training <bo>'));
    assert.ok(
      progress.some(
        (p) =>
          p.value.kind === 'report' &&
          /^training \d+% · loss [\d.]+ · ETA \d+ s$/.test(p.value.message ?? ''),
      ),
      JSON.stringify(progress.slice(-5)),
    );
    assert.ok(
      done.run && done.run.losses.length > 0 && done.run.epochs.length === 2,
      JSON.stringify({ losses: done.run?.losses.length, epochs: done.run?.epochs }),
    );
    // The loss summary covers the run from its first step, every step once.
    const buckets = done.run.losses;
    assert.equal(buckets[0]!.from, 1);
    buckets.forEach((b, i) => i && assert.equal(b.from, buckets[i - 1]!.to + 1));
    assert.equal(
      buckets.reduce((a, b) => a + b.n, 0),
      buckets.at(-1)!.to,
    );
    assert.equal(typeof done.run.lastLoss, 'number');
    // The CodeLens was refreshed, and says what the run gave without reopening the file.
    assert.ok(client.received('workspace/codeLens/refresh').length >= 2);
    const lenses = await client.request<{ command: { title: string } }[]>('textDocument/codeLens', {
      textDocument: { uri },
    });
    assert.match(lenses[0]!.command.title, /^recognition [\d.]+ \(training photos\) · trained just now$/);
  });

  it('auto-saves do not train and say so once in the CodeLens; a hand save the auto-save swallowed trains; the dashboard request returns the last run', async () => {
    const before = states().length;
    const declined = (): number =>
      client
        .received<{ message: string }>('window/logMessage')
        .filter((m) => m.message.includes('auto-saved: not training')).length;
    const declinedBefore = declined();
    client.save(uri, 2);
    client.save(uri, 3);
    // The server decides on each save as it arrives: both auto-saves are declined, and no job was queued.
    await client.until('both auto-saves to be declined', () => declined() === declinedBefore + 2);
    assert.equal(states().length, before);
    const run = await client.request(TrainingRunRequest, {
      uri,
    });
    assert.equal(run?.state, 'done');
    assert.equal(run?.epochs.length, 2);
    // The user sees it: one note in the CodeLens, after the commands, however many auto-saves came.
    const titles = async (): Promise<string[]> =>
      (
        await client.request<{ command: { title: string } }[]>('textDocument/codeLens', {
          textDocument: { uri },
        })
      ).map((l) => l.command.title);
    const note = 'saved: not training, save with Ctrl+S or turn on yollava.trainOnAutoSave';
    let shown = await titles();
    assert.equal(shown.filter((t) => t === note).length, 1, shown.join(' | '));
    assert.deepEqual(shown.slice(1, 5), ['Train', 'Evaluate', 'Chat', 'Preview']);
    // The user's Ctrl+S that web VS Code folded into an auto-save: the extension says it was by hand.
    client.save(uri, 2);
    await client.conn.sendNotification(SavedByHandNotification, { uri });
    const trained = await client.until('the hand save to train', () =>
      states()
        .slice(before)
        .find((s) => s.state === 'done' || s.state === 'failed'),
    );
    assert.equal(trained.state, 'done', trained.message);
    assert.equal(
      states()
        .slice(before)
        .filter((s) => s.message === 'train started').length,
      1,
    );
    shown = await titles();
    assert.ok(!shown.includes(note), shown.join(' | '));
  });

  it('a save that replaces a queued one leaves the last run as it was', async () => {
    const before = states().length;
    client.save(uri);
    client.save(uri);
    // The first save's job, still waiting out the debounce, is replaced by the second's.
    await client.until('the queued job to be replaced', () =>
      client
        .received<JobState & { superseded?: boolean }>(JobStateNotification)
        .slice(before)
        .find((s) => s.state === 'cancelled' && s.superseded),
    );
    const last = await client.request(TrainingRunRequest, { uri });
    assert.equal(last?.state, 'done', 'the last run is not marked cancelled by a job that never started');
    assert.equal(last?.error, undefined);
    const done = await client.until('the new run to end', () =>
      states()
        .slice(before)
        .find((s) => s.state === 'done' || s.state === 'failed'),
    );
    assert.equal(done.state, 'done', done.message);
    // The replaced job is routine, not news: the Output channel shows the one run that started.
    assert.ok(
      !client
        .received<{ message: string }>('window/logMessage')
        .some((m) => m.message.includes('a newer save started it again')),
    );
  });

  it('a cancelled run and a failed run keep the previous concept and say why', async () => {
    const concept = path.join(ws, 'bo', '.yollava', 'bo', 'concept.json');
    const kept = readFileSync(concept, 'utf8');
    // Training reads the file on disk: make this run long enough to cancel. 200 is the schema's maximum:
    // beyond it the run fails validation, and on a loaded machine that failure beat the Cancel.
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, original.replace('epochs: 2', 'epochs: 200'));
    const started = states().length;
    const train = client.request(TrainRequest, { uri });
    const begun = await client.until('a running training', () =>
      states()
        .slice(started)
        .find((s) => s.state === 'running'),
    );
    assert.ok(begun);
    // Cancel from the progress notification's Cancel button.
    const token = await client.until('a progress token', () => {
      const created = client.received<{ token: string }>('window/workDoneProgress/create');
      return created[created.length - 1]?.token;
    });
    await client.conn.sendNotification('window/workDoneProgress/cancel', { token });
    await assert.rejects(train, /cancelled/);
    writeFileSync(file, original);
    assert.equal(readFileSync(concept, 'utf8'), kept);
    assert.equal(states().at(-1)?.state, 'cancelled');
    // A model file that vanished: the job fails, the user is told, the concept stays.
    const weights = path.join(ws, 'model', 'model.safetensors');
    renameSync(weights, `${weights}.away`);
    try {
      await assert.rejects(client.request(TrainRequest, { uri }), /model|safetensors|no such file/i);
    } finally {
      renameSync(`${weights}.away`, weights);
    }
    const shown = client.received<{ type: number; message: string }>('window/showMessage');
    assert.ok(
      shown.some((m) => m.type === 1 && /failed: .*previous concept \(if any\) is kept/.test(m.message)),
    );
    assert.equal(readFileSync(concept, 'utf8'), kept);
  });

  it('the recognition preview scores a folder, sorted, with the labels the subject file gives', async () => {
    const r = await client.request(RecognizeRequest, { uri, targets: ['photos/test', '../negatives'] });
    assert.equal(r.items.length, 2 + 12);
    for (let i = 1; i < r.items.length; i++) assert.ok(r.items[i - 1]!.score >= r.items[i]!.score);
    assert.equal(r.items.filter((x) => x.label === 'positive').length, 2);
    assert.equal(r.items.filter((x) => x.label === 'negative').length, 12);
    for (const x of r.items) assert.equal(x.wrong, (x.label === 'positive') !== x.present);
    // Hovering the test folder now shows the scores.
    const text = readFileSync(file, 'utf8');
    const line = text.split('\n').findIndex((l) => l.includes('test:'));
    const h = await client.request<{ contents: { value: string } }>('textDocument/hover', {
      textDocument: { uri },
      position: { line, character: text.split('\n')[line]!.indexOf('test') + 1 },
    });
    assert.match(h.contents.value, /score -?[\d.]+ \(threshold -?[\d.]+\)/);
  });

  it('chat streams its answer, remembers nothing it is not given, and keeps the model warm', async () => {
    const ask = (chatId: string, question: string, history: ChatParams['history'] = []) =>
      client.request(ChatRequest, { chatId, uri, question, history });
    const first = await ask('c1', 'What color is <bo>?');
    const deltas = client.received(ChatDeltaNotification).filter((d) => d.chatId === 'c1');
    assert.ok(deltas.length >= 1);
    assert.equal(
      deltas
        .map((d) => d.delta)
        .join('')
        .trim(),
      first.answer,
    );
    assert.deepEqual(first.modes, [{ name: 'bo', mode: 'trained' }]);
    // executionProvider is "auto" here: the answer says what it chose (this machine has no GPU).
    assert.equal(first.provider, 'cpu');
    // Without Vulkan, auto passes webgpu over before Dawn can print its native warning to stderr (which
    // the editor shows as an error).
    assert.ok(!client.stderr.join('').includes("Couldn't load Vulkan"), client.stderr.join(''));
    const second = await ask('c2', 'And what is it?', [
      { role: 'user', text: 'What color is <bo>?' },
      { role: 'assistant', text: first.answer },
    ]);
    assert.equal(second.loadedModel, false, 'the second question found the model warm');
    // A photo to ask about, and a second subject named in the question, join the prompt.
    const photo = path.join(
      ws,
      'bo',
      'photos',
      'test',
      readdirSync(path.join(ws, 'bo', 'photos', 'test'))[0]!,
    );
    const withImage = await client.request(ChatRequest, {
      chatId: 'c3',
      uri,
      question: 'Is <bo> in this photo?',
      history: [],
      image: photo,
    });
    assert.ok(withImage.answer.length > 0);
  });

  it('a long answer streams token by token, and Stop ends it early with what streamed so far', async () => {
    // Uninterrupted: a delta per token (the tokenizer is word-level here, so about a word per delta).
    const full = await client.request(ChatRequest, {
      chatId: 'long1',
      uri,
      question: 'Tell me everything about <bo>.',
      history: [],
      maxAnswerTokens: 64,
    });
    const words = full.answer.split(/\s+/).filter(Boolean).length;
    const fullDeltas = client.received(ChatDeltaNotification).filter((d) => d.chatId === 'long1');
    assert.ok(words >= 32, `a long answer: "${full.answer}"`);
    assert.ok(fullDeltas.length >= words / 2, `${fullDeltas.length} deltas for ${words} words`);
    assert.equal(full.stopped, false);
    // Stop as soon as the first piece arrives, while the model could go on for 2,048 tokens.
    const stop = new CancellationTokenSource();
    const deltas = (): string[] =>
      client
        .received(ChatDeltaNotification)
        .filter((d) => d.chatId === 'long2')
        .map((d) => d.delta);
    const asked = client.conn.sendRequest(
      ChatRequest,
      {
        chatId: 'long2',
        uri,
        question: 'Tell me everything about <bo>.',
        history: [],
        maxAnswerTokens: 2048,
      },
      stop.token,
    );
    await client.until('the first piece of the answer', () => deltas().length > 0);
    stop.cancel();
    const stopped = await asked;
    assert.equal(stopped.stopped, true);
    assert.equal(stopped.answer, deltas().join('').trim());
    const n = stopped.answer.split(/\s+/).length;
    assert.ok(n < 1000, `Stop ended the answer early (${n} words of up to 2,048 tokens)`);
    // Nothing more streams after the answer.
    const after = deltas().length;
    await client.request(ChatRequest, { chatId: 'long3', uri, question: 'What is <bo>?', history: [] });
    assert.equal(deltas().length, after);
  });

  it('a question naming another subject brings it in; a settings change lets the warm model go', async () => {
    await writeSubjectWorkspace(ws, {
      name: 'mam',
      object: { kind: 'lamp', color: 'blue', pattern: 'dotted', accessory: 'hat' },
      train: 3,
      test: 0,
      negatives: 0,
      model: '../model',
      seed: 4,
    });
    // The server learns of the new subject file when it is opened.
    const mamFile = path.join(ws, 'mam', 'mam.subject.yaml');
    client.open(mamFile, readFileSync(mamFile, 'utf8'));
    const r = await client.until(
      'mam in the index',
      async () => {
        const a = await client.request(ChatRequest, {
          chatId: 'c4',
          uri,
          question: 'Do <bo> and <mam> have the same color?',
          history: [],
        });
        return a.modes.length === 2 ? a : null;
      },
      20_000,
    );
    assert.deepEqual(r.modes, [
      { name: 'bo', mode: 'trained' },
      { name: 'mam', mode: 'reference' },
    ]);
    // mam has no test photos: the preview says so by its code (the panel then offers the training
    // photos), and scores the training photos when asked to.
    const mamUri = pathToFileURL(mamFile).toString();
    await assert.rejects(client.request(RecognizeRequest, { uri: mamUri }), (e: { code?: number }) => {
      assert.equal(e.code, NO_PHOTOS_TO_SCORE);
      return true;
    });
    const trainPhotos = await client.request(RecognizeRequest, { uri: mamUri, photos: 'train' });
    assert.equal(trainPhotos.items.length, 3);
    assert.ok(trainPhotos.items.every((i) => i.label === 'positive'));
    await client.conn.sendNotification('workspace/didChangeConfiguration', { settings: {} });
    const after = await client.request(ChatRequest, {
      chatId: 'c5',
      uri,
      question: 'What is <bo>?',
      history: [],
    });
    assert.equal(after.loadedModel, true, 'the model was loaded again after the settings changed');
  });
});
