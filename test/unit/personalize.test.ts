// Yo'LLaVA personalization on a tiny random model and drawn ToyWorld photos.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { LlavaModel } from '../../server/src/engine/models/llava/model';
import { RED_MUG, writeTinyPersonalizationModel } from '../helpers/tiny-model';
import { ConceptError, loadConcept } from '../../server/src/engine/personalize/concept';
import { TrainingLockError } from '../../server/src/engine/personalize/training-lock';
import { personalize, type PersonalizeOptions } from '../../server/src/engine/personalize/personalize';
import { calibrateThreshold, accuracy } from '../../server/src/engine/personalize/recognition';
import { retrieveHardNegatives } from '../../server/src/engine/personalize/retrieval';
import { SubjectError } from '../../server/src/engine/subject/subject';
import { AbortedError } from '../../server/src/engine/runtime/worker';
import { writeSubjectWorkspace } from '../../server/src/engine/toyworld/workspace';

const FAST: PersonalizeOptions['overrides'] = {
  epochs: 3,
  questionsPerPhoto: 3,
  conversationTokens: 6,
  tokens: 4,
};

async function workspace(seed = 1): Promise<{ ws: string; file: string; modelDir: string }> {
  const ws = mkdtempSync(path.join(tmpdir(), 'yollava-pers-'));
  const modelDir = path.join(ws, 'model');
  writeTinyPersonalizationModel(modelDir);
  const file = await writeSubjectWorkspace(ws, {
    name: 'bo',
    object: RED_MUG,
    train: 5,
    test: 2,
    negatives: 24,
    hard: 8,
    random: 8,
    model: '../model',
    seed,
  });
  return { ws, file, modelDir };
}

function fileBytes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir).sort()) {
    if (f.endsWith('.json') || f.endsWith('.safetensors'))
      out[f] = createHash('sha256')
        .update(readFileSync(path.join(dir, f)))
        .digest('hex');
  }
  return out;
}

describe('personalize', () => {
  let w: Awaited<ReturnType<typeof workspace>>;
  before(async () => {
    w = await workspace();
  });

  it('trains only the new rows: every frozen weight is bit-identical afterwards, and the loss falls', async () => {
    const model = LlavaModel.load(w.modelDir);
    const before = new Map(
      [...model.weights].map(([k, t]) => [
        k,
        createHash('sha256')
          .update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength))
          .digest('hex'),
      ]),
    );
    // Four samples a step: this tiny set makes a few dozen samples, and at the recipe's 16 three epochs are
    // only a dozen steps, too few for the mean epoch loss of a random model to show the fall.
    const r = await personalize(w.file, { model, overrides: { ...FAST, batchSize: 4 } });
    for (const [k, t] of model.weights) {
      assert.equal(
        createHash('sha256')
          .update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength))
          .digest('hex'),
        before.get(k),
        `${k} changed`,
      );
    }
    assert.ok(
      r.history[r.history.length - 1]!.meanLoss < r.history[0]!.meanLoss,
      `loss ${r.history.map((h) => h.meanLoss.toFixed(3)).join(' → ')}`,
    );
    assert.equal(r.meta.tokens.length, 5);
    // Recipe revision 2: the latent tokens start from a training photo unless told otherwise.
    assert.equal(r.meta.init, 'reference-photo');
    assert.equal(r.data.positives.length, 5);
    assert.equal(r.data.negatives.filter((n) => n.kind === 'hard').length, 8);
    assert.equal(r.data.negatives.filter((n) => n.kind === 'random').length, 8);
    assert.ok(
      r.data.conversations.length > 0 && r.data.conversations.every((c) => c.question.includes('<bo>')),
    );
    const { concept } = loadConcept(r.artifactDir, model);
    assert.equal(concept.embeddings.length, 5 * model.hidden);
    await model.release();
  });

  it('a second run recomputes no retrieval embedding (disk cache keyed by content and model)', async () => {
    const r = await personalize(w.file, { overrides: { ...FAST, epochs: 1 } });
    assert.equal(r.embedCache.misses, 0);
    assert.equal(r.embedCache.hits, 5 + 24);
  });

  it('a cancelled run leaves the previous artifact intact, byte for byte', async () => {
    const dir = path.join(w.ws, 'bo', '.yollava', 'bo');
    const good = fileBytes(dir);
    assert.ok(Object.keys(good).includes('concept.json'));
    const ac = new AbortController();
    let steps = 0;
    await assert.rejects(
      personalize(w.file, {
        overrides: FAST,
        signal: ac.signal,
        onProgress: (p) => p.phase === 'train' && ++steps === 20 && ac.abort(),
      }),
      (e: Error) => e instanceof AbortedError,
    );
    assert.deepEqual(fileBytes(dir), good);
  });

  for (const batchSize of [1, 8])
    it(`a plain rerun after an interruption resumes by itself and ends exactly where an uninterrupted run ends (batch ${batchSize})`, async () => {
      const overrides = { ...FAST, batchSize };
      const a = await workspace(5);
      const full = await personalize(a.file, { overrides });
      const fullWeights = readFileSync(path.join(full.artifactDir, full.meta.weightsFile));
      const b = await workspace(5);
      const ac = new AbortController();
      await assert.rejects(
        personalize(b.file, {
          overrides,
          signal: ac.signal,
          onProgress: (p) => p.phase === 'select' && p.epoch === 2 && ac.abort(),
        }),
      );
      const epochs = new Set<number>();
      const resumed = await personalize(b.file, {
        overrides,
        onProgress: (p) => p.phase === 'train' && epochs.add(p.epoch),
      });
      assert.deepEqual([...epochs], [3], 'only the epoch that had not finished ran again');
      assert.equal(resumed.history.length, 3);
      assert.deepEqual(readFileSync(path.join(resumed.artifactDir, resumed.meta.weightsFile)), fullWeights);
    });

  it('an epoch reported done is already checkpointed: a crash at the report loses nothing', async () => {
    const b = await workspace(7);
    // Throwing from the progress callback stands in for the process dying the moment the editor hears of it.
    await assert.rejects(
      personalize(b.file, {
        overrides: FAST,
        onProgress: (p) => {
          if (p.phase === 'select' && p.epoch === 2) throw new Error('crash at the report');
        },
      }),
      /crash at the report/,
    );
    const epochs = new Set<number>();
    await personalize(b.file, {
      overrides: FAST,
      onProgress: (p) => p.phase === 'train' && epochs.add(p.epoch),
    });
    assert.deepEqual([...epochs], [3]);
  });

  it('an interrupted run is not continued under other settings', async () => {
    const b = await workspace(6);
    const ac = new AbortController();
    await assert.rejects(
      personalize(b.file, {
        overrides: FAST,
        signal: ac.signal,
        onProgress: (p) => p.phase === 'select' && p.epoch === 2 && ac.abort(),
      }),
    );
    const epochs = new Set<number>();
    await personalize(b.file, {
      overrides: { ...FAST, learningRate: 2e-3 },
      onProgress: (p) => p.phase === 'train' && epochs.add(p.epoch),
    });
    assert.deepEqual([...epochs], [1, 2, 3]);
  });

  it('warm-starts from the current artifact: the first epoch starts where the last run ended', async () => {
    const fresh = await personalize(w.file, { overrides: { ...FAST, epochs: 1 } });
    const warm = await personalize(w.file, { overrides: { ...FAST, epochs: 1 }, warmStart: true });
    assert.ok(
      warm.history[0]!.meanLoss < fresh.history[0]!.meanLoss,
      `warm ${warm.history[0]!.meanLoss} vs fresh ${fresh.history[0]!.meanLoss}`,
    );
  });

  it('refuses an artifact trained on another base model', async () => {
    const other = mkdtempSync(path.join(tmpdir(), 'yollava-other-'));
    writeTinyPersonalizationModel(other, 4);
    const model = LlavaModel.load(other);
    assert.throws(
      () => loadConcept(path.join(w.ws, 'bo', '.yollava', 'bo'), model),
      (e: Error) =>
        e instanceof ConceptError && /trained on base model .* but the model in use is/.test(e.message),
    );
  });
});

describe('personalize: bad inputs get clear errors', () => {
  it('too few images, a corrupt image, a missing model, a name that is a vocabulary word', async () => {
    const w = await workspace(9);
    const yaml = readFileSync(w.file, 'utf8');
    writeFileSync(w.file, yaml.replace('train: photos/train', 'train: photos/none'));
    await assert.rejects(
      personalize(w.file),
      (e: Error) =>
        e instanceof SubjectError &&
        /bo\.subject\.yaml:5:\d+: error: images\.train: folder "photos\/none" not found/.test(e.message),
    );
    writeFileSync(w.file, yaml.replace('train: photos/train', 'train: photos/train/000.png'));
    await assert.rejects(personalize(w.file), /images\.train: 1 image\(s\); at least 3 photos/);
    writeFileSync(w.file, yaml);
    const bad = path.join(w.ws, 'bo', 'photos', 'train', '099.png');
    writeFileSync(bad, 'not a png at all');
    // One broken photo among nine is left out, and the others train.
    const r = await personalize(w.file, { overrides: FAST });
    assert.deepEqual(
      r.data.skipped.map((x) => x.file),
      [bad],
    );
    assert.ok(!r.data.positives.includes(bad));
    // With too few usable photos left, it is an error that names the broken one.
    writeFileSync(
      w.file,
      yaml.replace(
        'train: photos/train',
        'train: [photos/train/000.png, photos/train/001.png, photos/train/099.png]',
      ),
    );
    await assert.rejects(personalize(w.file, { overrides: FAST }), (e: Error) =>
      /images\.train: 2 usable photo\(s\); at least 3 are needed \(099\.png: /.test(e.message),
    );
    writeFileSync(w.file, yaml);
    copyFileSync(path.join(w.ws, 'bo', 'photos', 'train', '000.png'), bad);
    writeFileSync(w.file, yaml.replace('model: ../model', 'model: ../no-model'));
    await assert.rejects(personalize(w.file), /no-model: the model folder does not exist/);
    writeFileSync(w.file, yaml.replace('name: bo', 'name: mug'));
    await assert.rejects(personalize(w.file), /name: "mug" is already a word in the model's vocabulary/);
  });
});

describe('recognition and retrieval pieces', () => {
  it('the calibrated threshold maximizes weighted accuracy', () => {
    const pos = [2.1, 1.5, 0.9];
    const neg = [0.8, 0.2, -0.4, -1];
    const t = calibrateThreshold(pos, neg);
    assert.deepEqual(accuracy(pos, neg, t), { positive: 1, negative: 1, weighted: 1 });
    assert.ok(t >= 0.8 && t < 0.9, `threshold ${t}`);
    // Inseparable scores: the best trade-off, and 0 when nothing beats it.
    assert.equal(calibrateThreshold([1, 1], [1, 1]), 0);
  });

  it('hard negatives come round-robin by similarity; duplicates of a training photo are contamination', () => {
    const v = (...xs: number[]) => {
      const n = Math.hypot(...xs);
      return Float32Array.from(xs.map((x) => x / n));
    };
    const train = [
      { embedding: v(1, 0, 0), hash: 'a' },
      { embedding: v(0, 1, 0), hash: 'b' },
    ];
    const pool = [
      { embedding: v(0, 0, 1), hash: 'p0' },
      { embedding: v(1, 0.3, 0), hash: 'p1' },
      { embedding: v(0.3, 1, 0), hash: 'p2' },
      { embedding: v(1, 0, 0), hash: 'a' },
      { embedding: v(1, 0.5, 0), hash: 'p4' },
    ];
    const r = retrieveHardNegatives(train, pool, 3);
    assert.deepEqual(r.hard, [1, 2, 4]);
    assert.deepEqual(
      r.contamination.map((c) => [c.pool, c.exact]),
      [[3, true]],
    );
    // A large direction every embedding shares (as pooled features of a small tower have) changes
    // nothing: similarities are measured around the common mean, so no pool image looks like a duplicate.
    const shift = (e: Float32Array) => v(...Array.from(e), 20);
    const r2 = retrieveHardNegatives(
      train.map((t) => ({ ...t, embedding: shift(t.embedding) })),
      pool.map((p) => ({ ...p, embedding: shift(p.embedding) })),
      3,
    );
    assert.deepEqual(r2.hard, [1, 2, 4]);
    assert.deepEqual(
      r2.contamination.map((c) => [c.pool, c.exact]),
      [[3, true]],
    );
  });
});

describe('personalize on a worker thread', () => {
  it('reports progress across the thread and stops on abort, keeping no partial artifact', async () => {
    const { runTask } = await import('../../server/src/engine/tasks/worker-tasks');
    const w = await workspace(11);
    const phases = new Set<string>();
    const r = await runTask(
      'personalize',
      { subjectFile: w.file, options: { overrides: { ...FAST, epochs: 1 } } },
      { onProgress: (p) => phases.add(p.phase) },
    );
    assert.equal(r.meta.name, 'bo');
    assert.deepEqual([...phases].sort(), ['conversations', 'embed', 'load', 'select', 'train']);
    const dir = path.join(w.ws, 'bo', '.yollava', 'bo');
    const good = fileBytes(dir);
    const ac = new AbortController();
    await assert.rejects(
      runTask(
        'personalize',
        { subjectFile: w.file, options: { overrides: FAST } },
        { signal: ac.signal, onProgress: (p) => p.phase === 'train' && ac.abort() },
      ),
      (e: Error) => e instanceof AbortedError,
    );
    assert.deepEqual(fileBytes(dir), good);
  });
});

describe('one training of a subject at a time', () => {
  it("a live holder of the lock is named; a dead one's lock and temporary files are cleaned up", async () => {
    const w = await workspace(21);
    const lock = path.join(w.ws, 'bo', '.yollava', 'bo.train.lock');
    mkdirSync(path.dirname(lock), { recursive: true });
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      writeFileSync(
        lock,
        JSON.stringify({ pid: holder.pid, host: hostname(), startedAt: '2026-11-29T10:00:00Z' }),
      );
      await assert.rejects(
        personalize(w.file, { overrides: { ...FAST, epochs: 1 } }),
        (e: Error) =>
          e instanceof TrainingLockError &&
          e.message.includes(`already being trained by process ${holder.pid} since 2026-11-29T10:00:00Z`),
      );
    } finally {
      holder.kill('SIGKILL');
      await new Promise((r) => holder.once('exit', r));
    }
    // The holder died without cleaning up: its lock and a half-written file are stale.
    const artifact = path.join(w.ws, 'bo', '.yollava', 'bo');
    mkdirSync(artifact, { recursive: true });
    const stale = path.join(artifact, `.concept.json.${holder.pid}.1700000000000.tmp`);
    writeFileSync(stale, '{"half');
    const r = await personalize(w.file, { overrides: { ...FAST, epochs: 1 } });
    assert.equal(r.meta.name, 'bo');
    assert.ok(!existsSync(stale), 'stale temporary file removed');
    assert.ok(!existsSync(lock), 'lock released');
  });
});
