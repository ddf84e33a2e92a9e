// ToyWorld and pretraining of the default model: scenes and skills, a short pretraining run whose loss
// falls, resume equal to an uninterrupted run, the whole-model gradient against finite differences, and
// `yollava toyworld subject` being a function of its seed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Graph, serialize } from '../../server/src/engine/graph/index';
import { SafetensorsFile } from '../../server/src/engine/io/safetensors';
import { LlavaModel } from '../../server/src/engine/models/llava/model';
import { parseLlavaConfig } from '../../server/src/engine/models/llava/config';
import { WeightInputs } from '../../server/src/engine/models/llava/weight-inputs';
import { buildWholeModelGraph } from '../../server/src/engine/models/llava/whole-model-graph';
import { GraphSession } from '../../server/src/engine/runtime/session';
import { Rng } from '../../server/src/engine/util/rng';
import {
  defaultModelConfig,
  initialWeights,
  type DefaultModelSpec,
} from '../../server/src/engine/toyworld/default-model';
import { makeBatch, PretrainEncoder, randomNameRows } from '../../server/src/engine/toyworld/pretrain-batch';
import { pretrain, type PretrainOptions } from '../../server/src/engine/toyworld/pretrain';
import { runRecipe, type RecipeStage } from '../../server/src/engine/toyworld/pretrain-recipe';
import { writeTrainingReport } from '../../server/src/engine/toyworld/training-report';
import { SKILLS, skillSample } from '../../server/src/engine/toyworld/skills';
import {
  addDecisionProbeWeights,
  decisionFeeds,
  decisionProbes,
} from '../../server/src/engine/toyworld/decision-probes';
import { lookalike, randomInstance, sameAttributes } from '../../server/src/engine/toyworld/world';

const root = path.join(__dirname, '..', '..');
const cli = path.join(root, 'dist', 'cli.js');

const TINY: DefaultModelSpec = {
  vision: { hidden: 32, intermediate: 64, layers: 1, heads: 2, imageSize: 32, patchSize: 16 },
  text: { hidden: 32, intermediate: 64, layers: 2, heads: 2, kvHeads: 2 },
};

function tinyRun(extra: Partial<PretrainOptions> = {}): PretrainOptions {
  const dir = mkdtempSync(path.join(tmpdir(), 'yollava-pretrain-'));
  return {
    out: path.join(dir, 'model'),
    runDir: path.join(dir, 'run'),
    spec: TINY,
    steps: 6,
    batch: 4,
    lr: 3e-3,
    warmup: 2,
    threads: 1,
    vocabularySamples: 200,
    evalSamples: 4,
    finalEvalSamples: 4,
    checkpointEvery: 1000,
    visionSteps: 3,
    visionBatch: 4,
    ...extra,
  };
}

function filesHash(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const n of readdirSync(d).sort()) {
      const p = path.join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(path.relative(dir, p), createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  walk(dir);
  return out;
}

describe('ToyWorld', () => {
  it('look-alikes share every nameable attribute and differ in fine details', () => {
    const rng = new Rng(3);
    for (let i = 0; i < 50; i++) {
      const o = randomInstance(rng);
      const l = lookalike(o, rng);
      assert.ok(sameAttributes(o, l));
      assert.notEqual(l.details.markSpot, o.details.markSpot);
      assert.notEqual(l.details.markTone, o.details.markTone);
    }
  });

  it('every skill encodes through the built vocabulary with no unknown word, and labels only the answer', async () => {
    const opts = tinyRun({ steps: 1 });
    await pretrain(opts);
    const config = parseLlavaConfig(JSON.parse(readFileSync(path.join(opts.out, 'config.json'), 'utf8')));
    const enc = PretrainEncoder.load(config, opts.out);
    const unk = enc.tokenizer.idOf('<unk>');
    const rng = new Rng(11);
    for (const skill of SKILLS) {
      for (let i = 0; i < 30; i++) {
        const s = skillSample(skill, rng);
        const e = enc.encode(s);
        assert.ok(!e.ids.includes(unk!), `${skill}: "${s.user}" → "${s.answer}" has an unknown word`);
        const images = e.ids.filter((id) => id === config.imageTokenIndex).length;
        assert.equal(images, s.scenes.length * config.imageTokens, `${skill}: image tokens`);
        assert.ok(
          e.labels.some((l) => l !== -100),
          `${skill}: nothing supervised`,
        );
      }
    }
  });
});

describe('decision probes (routing both sides of a yes/no comparison to the deciding position)', () => {
  it("label each recognition sample at its answer's first label position with what each side states", async () => {
    const opts = tinyRun({ steps: 1 });
    await pretrain(opts);
    const config = parseLlavaConfig(JSON.parse(readFileSync(path.join(opts.out, 'config.json'), 'utf8')));
    const enc = PretrainEncoder.load(config, opts.out);
    const probes = decisionProbes(config.text.layers);
    const rng = new Rng(5);
    const samples = [
      ...Array.from({ length: 12 }, () => skillSample('name_description', rng)),
      skillSample('count', rng),
      ...Array.from({ length: 12 }, () => skillSample('reference', rng)),
    ];
    const encoded = samples.map((s) => enc.encode(s));
    const batch = await makeBatch(
      enc,
      samples,
      encoded,
      new Float32Array(samples.length * config.text.hidden),
    );
    const feeds = decisionFeeds(probes, samples, batch);
    const rows = samples.filter((s) => s.compared);
    assert.equal(rows.length, 24, 'the count question compares nothing');
    const positions = [...(feeds['decision_positions']!.data as BigInt64Array)].map(Number);
    const T = encoded.reduce((a, e) => Math.max(a, e.ids.length), 0);
    const label = (name: string, r: number): number =>
      Number((feeds[`dprobe_${name}`]!.data as BigInt64Array)[r]);
    let r = 0;
    samples.forEach((s, b) => {
      if (!s.compared) return;
      // The position predicting the answer's first token: the last prompt token, just before "Yes"/"No".
      const t = positions[r]! - b * T;
      assert.equal(encoded[b]!.labels[t + 1], enc.tokenizer.idOf(s.contrast![0]));
      const agree = ['kind', 'color', 'pattern', 'accessory'].every((a) => label(`match_${a}`, r) === 1);
      if (s.skill === 'name_description') {
        assert.equal(label('subject_mark', r), -100, 'a description states no mark');
        assert.equal(label('subject_mark_tone', r), -100, 'nor its tone');
        assert.equal(agree, s.contrast![0] === 'Yes', 'a description matches exactly the positives');
      } else {
        assert.ok(label('subject_mark', r) >= 0, 'a reference image shows its mark');
        assert.ok(label('subject_mark_tone', r) >= 0, 'and its tone');
        const same = agree && label('match_mark', r) === 1 && label('match_mark_tone', r) === 1;
        if (s.contrast![0] === 'Yes') assert.ok(same, 'a positive agrees on everything');
        else if (agree)
          assert.equal(label('match_mark_tone', r), 0, "a look-alike's mark has the other tone");
      }
      r++;
    });
  });

  it('read the residual stream below the output: the facts after layer L−3, their agreement after L−2', async () => {
    const opts = tinyRun({ steps: 1 });
    await pretrain(opts);
    const vocab = JSON.parse(readFileSync(path.join(opts.out, 'config.json'), 'utf8')).text_config.vocab_size;
    const spec = { ...TINY, text: { ...TINY.text, layers: 4 } };
    const config = parseLlavaConfig(defaultModelConfig(spec, vocab));
    const weights = initialWeights(config, 3);
    const probes = decisionProbes(config.text.layers);
    addDecisionProbeWeights(weights, probes, config.text.hidden, new Rng(4));
    const enc = PretrainEncoder.load(config, opts.out);
    const rng = new Rng(6);
    const samples = Array.from({ length: 4 }, () => skillSample('reference', rng));
    const table = weights.get('lm.embed_tokens.weight')!.data as Float32Array;
    const batch = await makeBatch(
      enc,
      samples,
      samples.map((s) => enc.encode(s)),
      randomNameRows(table, config.text.vocab, config.text.hidden, samples.length, rng),
    );
    const g = new Graph('dprobe-layers');
    const w = new WeightInputs(g, weights);
    const graph = buildWholeModelGraph(g, config, w, {
      mode: 'train',
      decisionProbes: probes,
      decisionProbeWeight: 1,
    });
    const session = await GraphSession.create(serialize(graph), { threads: 1 });
    const labelled = decisionFeeds(probes, samples, batch);
    // The same batch with only some probes labelled: what those probes add to each layer's gradient.
    const only = (keep: (name: string) => boolean) =>
      Object.fromEntries(
        Object.entries(labelled).map(([k, t]) =>
          k.startsWith('dprobe_') && !keep(k.slice('dprobe_'.length))
            ? [k, { ...t, data: new BigInt64Array(t.data.length).fill(-100n) }]
            : [k, t],
        ),
      );
    const run = (feeds: typeof labelled) => session.run({ ...w.feeds(), ...batch.feeds, ...feeds });
    try {
      const none = await run(only(() => false));
      const facts = await run(only((n) => !n.startsWith('match_')));
      const matches = await run(only((n) => n.startsWith('match_')));
      assert.equal((none['decision_probe_loss']!.data as Float32Array)[0], 0);
      const layerGrad = (out: typeof none, layer: number): Float32Array[] =>
        w
          .names()
          .filter((n) => n.startsWith(`lm.layers.${layer}.`))
          .map((n) => out[`grad_${n}`]!.data as Float32Array);
      const same = (a: Float32Array[], b: Float32Array[]) =>
        a.every((x, i) => x.every((v, j) => v === b[i]![j]));
      assert.deepEqual(
        probes.map((p) => p.layer).filter((l, i, xs) => xs.indexOf(l) === i),
        [1, 2],
      );
      // Layer 3 is the last: no probe reaches it. Layer 2 is seen by the agreement probes only.
      assert.ok(
        same(layerGrad(none, 3), layerGrad(facts, 3)) && same(layerGrad(none, 3), layerGrad(matches, 3)),
      );
      assert.ok(same(layerGrad(none, 2), layerGrad(facts, 2)), 'the fact probes stop below layer 2');
      assert.ok(!same(layerGrad(none, 2), layerGrad(matches, 2)), 'the agreement probes train layer 2');
      assert.ok(!same(layerGrad(none, 1), layerGrad(facts, 1)), 'the fact probes train layer 1');
    } finally {
      await session.release();
    }
  });
});

describe('pretraining', () => {
  it('a short run lowers the loss, writes a loadable Hugging Face folder and reports skill accuracy', async () => {
    const losses: number[] = [];
    const opts = tinyRun({ steps: 40, onProgress: (p) => p.event || losses.push(p.loss) });
    const r = await pretrain(opts);
    assert.ok(r.finished);
    const first = losses.slice(0, 5).reduce((a, b) => a + b) / 5;
    const last = losses.slice(-5).reduce((a, b) => a + b) / 5;
    assert.ok(last < first * 0.8, `loss ${first.toFixed(3)} → ${last.toFixed(3)}`);
    for (const f of [
      'config.json',
      'model.safetensors',
      'tokenizer.json',
      'tokenizer_config.json',
      'preprocessor_config.json',
    ])
      assert.ok(existsSync(path.join(opts.out, f)), f);
    const st = SafetensorsFile.open(path.join(opts.out, 'model.safetensors'));
    const scaffolding = st.names().filter((n) => /probe/.test(n));
    st.close();
    assert.deepEqual(scaffolding, [], 'probe weights are training scaffolding, never exported');
    const model = LlavaModel.load(opts.out);
    assert.equal(model.config.imageTokens, 4);
    await model.release();
    const finalEval = r.record.evals[r.record.evals.length - 1]!;
    assert.deepEqual(Object.keys(finalEval.scores).sort(), [...SKILLS].sort());
  });

  it('stopping and resuming ends with the same weights as an uninterrupted run', async () => {
    const whole = tinyRun({ steps: 6 });
    await pretrain(whole);
    const parts = tinyRun({ steps: 6, stopAfter: 3 });
    const mid = await pretrain(parts);
    assert.equal(mid.finished, false);
    assert.equal(mid.record.step, 3);
    const end = await pretrain({ ...parts, stopAfter: undefined, resume: true });
    assert.ok(end.finished);
    assert.equal(end.record.step, 6);
    const a = SafetensorsFile.open(path.join(whole.runDir, 'checkpoint.safetensors'));
    const b = SafetensorsFile.open(path.join(parts.runDir, 'checkpoint.safetensors'));
    try {
      assert.deepEqual(b.names(), a.names());
      let maxDiff = 0;
      for (const n of a.names()) {
        const x = a.readFloat32(n);
        const y = b.readFloat32(n);
        for (let i = 0; i < x.length; i++) maxDiff = Math.max(maxDiff, Math.abs(x[i]! - y[i]!));
      }
      assert.ok(maxDiff <= 1e-6, `weights and moments differ by up to ${maxDiff}`);
    } finally {
      a.close();
      b.close();
    }
  });

  it('a new run can start from an exported model: no vision stage, its weights as the starting point', async () => {
    const first = tinyRun({ steps: 3 });
    await pretrain(first);
    const losses: number[] = [];
    // No visionSteps: a run from an exported model gets a vision stage only when it asks for one.
    const next = tinyRun({
      steps: 2,
      from: first.out,
      visionSteps: undefined,
      onProgress: (p) => p.event || losses.push(p.loss),
    });
    const r = await pretrain(next);
    assert.equal(r.record.initializedFrom, path.resolve(first.out));
    assert.equal(r.record.vision, undefined);
    assert.equal(losses.length, 2);
    const fresh: number[] = [];
    await pretrain(tinyRun({ steps: 2, onProgress: (p) => p.event || fresh.push(p.loss) }));
    assert.notEqual(losses[0], fresh[0], 'the first step starts from the exported weights, not a fresh init');
  });

  it("the whole-model gradient matches the loss's finite difference along it", async () => {
    const opts = tinyRun({ steps: 1 });
    await pretrain(opts);
    const config = parseLlavaConfig(
      defaultModelConfig(
        TINY,
        JSON.parse(readFileSync(path.join(opts.out, 'config.json'), 'utf8')).text_config.vocab_size,
      ),
    );
    const weights = initialWeights(config, 5);
    const enc = PretrainEncoder.load(config, opts.out);
    const rng = new Rng(9);
    const samples = ['reference', 'name_reading', 'caption', 'choice'].map((s) =>
      skillSample(s as never, rng),
    );
    const table = weights.get('lm.embed_tokens.weight')!.data as Float32Array;
    const batch = await makeBatch(
      enc,
      samples,
      samples.map((s) => enc.encode(s)),
      randomNameRows(table, config.text.vocab, config.text.hidden, 4, rng),
    );
    const g = new Graph('check');
    const w = new WeightInputs(g, weights);
    const session = await GraphSession.create(
      serialize(buildWholeModelGraph(g, config, w, { mode: 'train' })),
      { threads: 1 },
    );
    const run = async () => session.run({ ...w.feeds(), ...batch.feeds });
    const out = await run();
    const names = w.names();
    // Directional derivative along the gradient itself: d = g/|g|, so dL/dε = |g|.
    const grads = names.map((n) => out[`grad_${n}`]!.data as Float32Array);
    let norm = 0;
    for (const gr of grads) for (const v of gr) norm += v * v;
    norm = Math.sqrt(norm);
    assert.ok(norm > 0);
    for (const n of names)
      assert.ok(
        (out[`grad_${n}`]!.data as Float32Array).some((v) => v !== 0),
        `${n} gets no gradient`,
      );
    const eps = 1e-2;
    const shift = async (sign: number): Promise<number> => {
      names.forEach((n, k) => {
        const p = weights.get(n)!.data as Float32Array;
        for (let i = 0; i < p.length; i++) p[i]! += (sign * eps * grads[k]![i]!) / norm;
      });
      return ((await run())['loss']!.data as Float32Array)[0]!;
    };
    const plus = await shift(1);
    const minus = await shift(-2);
    await shift(1);
    const fd = (plus - minus) / (2 * eps);
    assert.ok(Math.abs(fd - norm) / norm < 0.05, `finite difference ${fd} vs |grad| ${norm}`);
    await session.release();
  });
});

describe('the pretraining recipe (stages, each from the model the one before exported)', () => {
  const RECIPE: RecipeStage[] = [
    { name: 'one', purpose: 'first', options: { steps: 3, seed: 1, visionSteps: 2, decisionProbeWeight: 0 } },
    {
      name: 'two',
      purpose: 'second',
      options: { steps: 4, seed: 2, lr: 1e-3, curriculum: [], visionSteps: 2 },
    },
    {
      name: 'three',
      purpose: 'third',
      options: { steps: 2, seed: 3, curriculum: [], mixture: { choice: 1 } },
    },
  ];
  function recipeRun(): Parameters<typeof runRecipe>[0] {
    const o = tinyRun();
    return { ...o, recipe: RECIPE };
  }

  it('runs the stages in order, each starting from the last one, and resumes across them exactly', async () => {
    const whole = recipeRun();
    const r = await runRecipe(whole);
    assert.ok(r.finished);
    assert.deepEqual(
      r.records.map((x) => x?.step),
      [3, 4, 2],
    );
    assert.equal(r.records[1]!.initializedFrom, path.join(whole.runDir, 'one', 'export'));
    assert.equal(r.records[2]!.initializedFrom, path.join(whole.runDir, 'two', 'export'));
    assert.ok(r.records[0]!.vision && r.records[1]!.vision, 'a stage gets the vision stage it asks for');
    assert.ok(!r.records[2]!.vision, 'a stage from an exported model has none unless it asks');
    assert.equal(r.records[1]!.decisionProbeWeight, 0.3);
    assert.ok(existsSync(path.join(whole.out, 'model.safetensors')), 'the last stage writes --out');

    const parts = recipeRun();
    const first = await runRecipe({ ...parts, stopAfter: 5 });
    assert.equal(first.finished, false);
    assert.deepEqual(
      first.records.map((x) => x?.step),
      [3, 2, undefined],
      'the step budget runs on into the next stage',
    );
    await assert.rejects(runRecipe(parts), /already holds a run's checkpoints; carry on with --resume/);
    const rest = await runRecipe({ ...parts, resume: true });
    assert.ok(rest.finished);
    const a = SafetensorsFile.open(path.join(whole.out, 'model.safetensors'));
    const b = SafetensorsFile.open(path.join(parts.out, 'model.safetensors'));
    try {
      for (const n of a.names()) assert.deepEqual(b.readFloat32(n), a.readFloat32(n), n);
    } finally {
      a.close();
      b.close();
    }
    writeTrainingReport(whole.out, [
      { stage: RECIPE[0], record: r.records[0]! },
      { stage: RECIPE[1], record: r.records[1]! },
      { stage: RECIPE[2], record: r.records[2]! },
    ]);
    const report = readFileSync(path.join(whole.out, 'TRAINING.md'), 'utf8');
    assert.match(report, /\| one \| first \| 3 \|/);
    assert.match(report, /\| two \| second \| 4 \|/);
    assert.match(report, /### Decision probes/);
    assert.match(report, /## Vision stage[^]*### one[^]*### two/);
    assert.match(report, /mixture of three, in place of the one below: choice 100 %/);
  });
});

describe('yollava toyworld subject', () => {
  it('writes the same subject for the same seed and another for another seed', () => {
    // Each in a folder of its own: validation looks for other subjects (with the same name) beside it.
    const dirs = [1, 2, 3].map(() => path.join(mkdtempSync(path.join(tmpdir(), 'yollava-tw-')), 'subject'));
    const seeds = [7, 7, 8];
    dirs.forEach((d, i) => {
      const r = spawnSync(
        process.execPath,
        [cli, 'toyworld', 'subject', '--seed', String(seeds[i]), '--out', d],
        { encoding: 'utf8' },
      );
      assert.equal(r.status, 0, r.stderr);
    });
    const [a, b, c] = dirs.map(filesHash);
    assert.deepEqual([...a!.entries()], [...b!.entries()]);
    assert.notDeepEqual([...a!.entries()], [...c!.entries()]);
    const names = [...a!.keys()];
    const yaml = names.find((n) => n.endsWith('.subject.yaml'))!;
    const name = path.basename(yaml, '.subject.yaml');
    assert.ok(names.includes(`${name}.qa.json`) && names.includes('truth.json'));
    assert.equal(names.filter((n) => n.startsWith(`photos${path.sep}train`)).length, 10);
    assert.equal(names.filter((n) => n.startsWith(`photos${path.sep}test`)).length, 10);
    assert.ok(names.filter((n) => n.startsWith('negatives')).length >= 100);
    const truth = JSON.parse(readFileSync(path.join(dirs[0]!, 'truth.json'), 'utf8'));
    const qa = JSON.parse(readFileSync(path.join(dirs[0]!, `${name}.qa.json`), 'utf8'));
    assert.ok(qa.text.some((q: { options: string[] }) => q.options[0]!.toLowerCase() === truth.object.color));
    const validate = spawnSync(process.execPath, [cli, 'validate', path.join(dirs[0]!, yaml)], {
      encoding: 'utf8',
    });
    assert.equal(validate.status, 0, validate.stdout + validate.stderr);
  });
});

describe('rankAuc (two-way skills scored without their bias)', () => {
  it('is 1 for a perfect ranking, 0.5 for none, and ignores a constant shift', async () => {
    const { rankAuc } = await import('../../server/src/engine/toyworld/skill-eval');
    const ranked = [
      { m: -3, positive: true },
      { m: -2, positive: true },
      { m: -5, positive: false },
      { m: -4, positive: false },
    ];
    // Always "No" (every margin negative), yet a perfect ranking.
    assert.equal(rankAuc(ranked), 1);
    assert.equal(rankAuc(ranked.map((x) => ({ ...x, m: 0 }))), 0.5);
    assert.equal(rankAuc(ranked.map((x) => ({ ...x, positive: !x.positive }))), 0);
    assert.equal(rankAuc([{ m: 1, positive: true }]), undefined);
  });
});
