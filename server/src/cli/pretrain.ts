// `yollava pretrain`: pretrains the embedded default model on ToyWorld. With no run-shaping flag it runs
// the default recipe (engine/toyworld/pretrain-recipe.ts: stages, each starting from the model the one
// before exported); any run-shaping flag makes it one experimental run instead. Progress goes to stderr
// and a line per logged window to stdout, so that a background run's log reads well. Ctrl-C stops at
// the end of the step and writes a checkpoint; --resume carries on.
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  DEFAULT_RECIPE,
  pretrain,
  readPretrainRecord,
  readRecipeRecords,
  runRecipe,
  SKILLS,
  writeTrainingReport,
  type PretrainProgress,
  type ReportStage,
  type Skill,
} from '../engine';

const HELP = `yollava pretrain — pretrain the embedded default model on ToyWorld

With no flag below the line, runs the default recipe: stages ${DEFAULT_RECIPE.map((s) => s.name).join(' → ')}, each
from the model the one before exported, into --run <dir>/<stage>. Any flag below the line makes it a
single experimental run instead (default --run .cache/pretrain-experiment).

Options:
  --out <dir>          model folder to write (default samples/models/toy-llava)
  --run <dir>          checkpoint and log folder (default .cache/pretrain)
  --resume             continue from the run folder's checkpoints
  --report             write TRAINING.md from the run's checkpoints, and stop
  --threads N          onnxruntime intra-op threads (default: all cores)
  --eval-every N       held-out skill accuracy every N steps (default 500)
  --stop-after N       stop after N steps in this invocation (a checkpoint is written)
  ---------------------------------------------------------------------------------------------------
  --from <dir>         start from an exported model (e.g. the committed default) when the run folder
                       has no checkpoint
  --steps N            total optimizer steps of the schedule (default 8000)
  --batch N            samples per step (default 16)
  --vision-steps N     steps of the vision stage before joint training (default 2000; none with --from)
  --lr X               peak learning rate (default 6e-4)
  --seed N             data and initialization seed of a new run (default 1); a run --from an earlier
                       model wants a new one, so that it sees fresh data
  --decision-probes X  weight of the probes that route both sides of a yes/no comparison to the
                       position deciding it (default 0.3; 0: none)
  --freeze PREFIXES    weight-name prefixes to keep frozen, comma-separated (e.g. "vision.,projector.")
  --reinit PREFIXES    with --from: weight-name prefixes to initialize afresh (e.g. "lm.,lm_head")
  --tie                one matrix for the input embeddings and the output head
  --curriculum SPEC    phases before the full mixture, as UNTIL:skill=w,skill=w;UNTIL:… — e.g.
                       "6000:presence=0.3,attribute=0.3,choice=0.2,name_reading=0.2" draws steps
                       below 6000 from those skills only (default 1500 steps of grounding skills;
                       "none": the full mixture from the first step, e.g. for a run --from a model)
`;

const EXPERIMENT_FLAGS = [
  'from',
  'steps',
  'batch',
  'vision-steps',
  'lr',
  'seed',
  'decision-probes',
  'freeze',
  'reinit',
  'tie',
  'curriculum',
];

/** Parses --curriculum: phases in order, each the step it lasts until and its skill weights. */
export function parseCurriculum(spec: string): { until: number; mixture: Partial<Record<Skill, number>> }[] {
  return spec.split(';').map((phase) => {
    const [until, weights] = phase.split(':');
    const n = Number(until);
    if (!Number.isInteger(n) || n <= 0 || !weights)
      throw new Error(`pretrain: --curriculum phase "${phase}" must read UNTIL:skill=w,…`);
    const mixture: Partial<Record<Skill, number>> = {};
    for (const part of weights.split(',')) {
      const [skill, w] = part.split('=');
      const weight = Number(w);
      if (!(SKILLS as readonly string[]).includes(skill ?? '') || !(weight > 0))
        throw new Error(
          `pretrain: --curriculum "${part}" must be skill=weight, with a skill among ${SKILLS.join(', ')}`,
        );
      mixture[skill as Skill] = weight;
    }
    return { until: n, mixture };
  });
}

function fmt(s: number): string {
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
}

export async function runPretrainCommand(args: string[]): Promise<number> {
  const opt: Record<string, string | true> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--help') {
      process.stdout.write(HELP);
      return 0;
    }
    if (a === '--resume' || a === '--report' || a === '--tie') opt[a.slice(2)] = true;
    else if (a.startsWith('--') && args[i + 1] !== undefined) opt[a.slice(2)] = args[++i]!;
    else throw new Error(`pretrain: unexpected argument ${a}\n\n${HELP}`);
  }
  const num = (k: string): number | undefined => {
    const v = opt[k];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0)
      throw new Error(`pretrain: --${k} must be a positive number, got ${String(v)}`);
    return n;
  };
  const out = path.resolve(String(opt['out'] ?? 'samples/models/toy-llava'));
  const experiment = EXPERIMENT_FLAGS.some((f) => f in opt);
  const runDir = path.resolve(
    String(opt['run'] ?? (experiment ? '.cache/pretrain-experiment' : '.cache/pretrain')),
  );
  if (opt['report'] === true) {
    const stages = reportStages(runDir);
    writeTrainingReport(out, stages);
    const steps = stages.map((s) => s.record.step).join(' + ');
    process.stdout.write(`${path.join(out, 'TRAINING.md')} written from ${steps} steps\n`);
    return 0;
  }
  const controller = new AbortController();
  process.once('SIGINT', () => {
    process.stderr.write('\npretrain: stopping after this step and writing a checkpoint…\n');
    controller.abort();
  });
  const started = Date.now();
  let busySaid = false;
  const onProgress = (p: PretrainProgress): void => {
    if (p.event === 'vision' && p.vision) {
      const v = p.vision;
      const acc = Object.entries(v.accuracy).map(([k, a]) => `${k} ${a.toFixed(2)}`);
      process.stdout.write(
        `vision stage ${v.step}/${v.steps} probe loss ${v.loss.toFixed(2)}: ${acc.join(', ')}\n`,
      );
    } else if (p.event === 'eval' && p.scores) {
      const parts = Object.entries(p.scores).map(([k, v]) => `${k} ${v.accuracy.toFixed(2)}`);
      process.stdout.write(`eval @${p.step}: ${parts.join(', ')}\n`);
    } else if (p.event === 'checkpoint') {
      process.stdout.write(`checkpoint @${p.step} (${fmt((Date.now() - started) / 1000)} this run)\n`);
    } else if (p.step % 25 === 0) {
      process.stdout.write(
        `step ${p.step}/${p.steps} loss ${p.loss.toFixed(3)} lr ${p.lr.toExponential(2)} features ${p.featureRms?.toFixed(2)} (varying ${p.featureSpread?.toFixed(2)}) probes ${p.probeLoss?.toFixed(2)} ${p.secondsPerStep.toFixed(2)}s/step ETA ${fmt(p.etaSeconds)}\n`,
      );
      // Another process on the same cores halves the step rate: two 2-thread onnxruntime jobs on 2 cores
      // each ran a tone2 step in 0.85-1.1 s against 0.45 s alone, which is what the tone2 stage's record
      // shows. Said once per run, and again each time it is still so at a logged window.
      const load = os.loadavg()[0]!;
      const cores = os.cpus().length;
      if (load > cores + 0.75) {
        process.stdout.write(
          `  the machine is busy: load ${load.toFixed(1)} on ${cores} cores, so steps run slower than on a quiet machine${busySaid ? '' : ' (another process shares the cores; step times in TRAINING.md include it)'}\n`,
        );
        busySaid = true;
      }
      if (p.decisionAccuracy) {
        const parts = Object.entries(p.decisionAccuracy).map(([k, a]) => `${k} ${a.toFixed(2)}`);
        process.stdout.write(`  decision probes ${p.decisionProbeLoss?.toFixed(2)}: ${parts.join(', ')}\n`);
      }
    }
  };
  const common = {
    out,
    resume: opt['resume'] === true,
    evalEvery: num('eval-every') ?? 500,
    evalSamples: 64,
    threads: num('threads'),
    stopAfter: num('stop-after'),
    signal: controller.signal,
    onProgress,
  };
  if (!experiment) {
    const r = await runRecipe({
      ...common,
      runDir,
      onStage: (s, i) =>
        process.stdout.write(`stage ${i + 1}/${DEFAULT_RECIPE.length} "${s.name}": ${s.purpose}\n`),
    });
    if (r.finished) {
      writeTrainingReport(out, reportStages(runDir));
      const secs = r.records.reduce((a, x) => a + (x?.wallSeconds ?? 0), 0);
      process.stdout.write(`pretraining finished in ${fmt(secs)} of step time; model in ${out}\n`);
    } else process.stdout.write(`pretraining stopped; checkpoints in ${runDir}; run again with --resume\n`);
    return 0;
  }
  if (!common.resume && readPretrainRecord(runDir))
    throw new Error(
      `pretrain: ${runDir} already holds a run's checkpoint; carry on with --resume, or name another --run folder`,
    );
  const result = await pretrain({
    ...common,
    runDir,
    from: typeof opt['from'] === 'string' ? path.resolve(opt['from']) : undefined,
    steps: num('steps'),
    batch: num('batch'),
    visionSteps: num('vision-steps'),
    lr: num('lr'),
    decisionProbeWeight: decisionProbeWeight(opt['decision-probes']),
    seed: num('seed'),
    reinit: typeof opt['reinit'] === 'string' ? opt['reinit'].split(',').filter(Boolean) : undefined,
    tieEmbeddings: opt['tie'] === true,
    freeze: typeof opt['freeze'] === 'string' ? opt['freeze'].split(',').filter(Boolean) : undefined,
    curriculum:
      opt['curriculum'] === 'none'
        ? []
        : typeof opt['curriculum'] === 'string'
          ? parseCurriculum(opt['curriculum'])
          : undefined,
  });
  const r = result.record;
  if (result.finished) {
    writeTrainingReport(out, [{ record: r }]);
    process.stdout.write(`pretraining finished: ${r.step} steps in ${fmt(r.wallSeconds)}; model in ${out}\n`);
  } else {
    process.stdout.write(
      `pretraining stopped at step ${r.step}/${r.steps}; checkpoint in ${runDir}; run again with --resume\n`,
    );
  }
  return 0;
}

/** --decision-probes: a weight of 0 or more (0 turns them off). */
function decisionProbeWeight(v: string | true | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(n) || n < 0)
    throw new Error(`pretrain: --decision-probes must be a number ≥ 0, got ${String(v)}`);
  return n;
}

/** A recipe run's stages that have started, or a single run's record. */
function reportStages(runDir: string): ReportStage[] {
  if (existsSync(path.join(runDir, 'checkpoint.safetensors'))) {
    const record = readPretrainRecord(runDir)!;
    return [{ record }];
  }
  const records = readRecipeRecords(runDir);
  const stages = DEFAULT_RECIPE.flatMap((stage, i) => (records[i] ? [{ stage, record: records[i] }] : []));
  if (!stages.length) throw new Error(`pretrain: no checkpoint in ${runDir} nor in its stage folders`);
  return stages;
}
