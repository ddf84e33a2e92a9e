#!/usr/bin/env node
// The `yollava` command. Each subcommand is a thin layer over the engine.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { runGoldenCheck } from '../engine';
import { evaluateSubject, siblingNames } from '../engine';
import { resolveImages } from '../engine';
import { chat, recognize } from '../engine';
import { lineColumn, parseSubject, type SubjectDiagnostic } from '../engine';
import { validateSubject } from '../engine';
import { ImageCheckCache } from '../engine';
import { LlavaTokenizer } from '../engine';
import { runTask, AbortedError } from '../engine';
import { defaultModelDir, FILE_CAPS, readRegularTextSync } from '../engine';
import { breakTrainingLock, loadSubject, trainingLockPath } from '../engine';
import { progressPrinter } from './progress';
import { runPretrainCommand } from './pretrain';
import { runToyworldCommand } from './toyworld';
import { runDemo } from './demo';
import {
  runRenderChatCommand,
  runTokenizeCommand,
  TOKENIZER_USAGE,
  TokenizerCommandError,
} from './tokenizer-commands';
import { inspectModel } from '../engine';
import { USE_MODES, type UseModeSetting } from '../engine';
import { availableProviders, PROVIDER_SETTINGS, type ProviderSetting } from '../engine';

const USAGE = `yollava — personalize a vision-language model to your own subject (Yo'LLaVA)

Usage:
  yollava validate <file.subject.yaml>...  check subject files and their photos (file:line:column: message)
  yollava train <file.subject.yaml>        personalize the model to the subject (writes .yollava/<name>/)
  yollava eval <file.subject.yaml>         recognition (and QA) on held-out photos, with baselines
  yollava recognize <file> <image|folder>  is the subject in these photos?
  yollava chat <file>... --ask "question" [--image photo]   talk about one or several subjects
  yollava unlock <file.subject.yaml> [--force]   remove a training lock left by a process that is gone
  yollava inspect <model-dir> [--json]     architecture, parameter count and memory estimate
  yollava golden <dir> [--provider P]      check the implementation against Hugging Face reference outputs
${TOKENIZER_USAGE}  yollava pretrain [--resume] [--help]     pretrain the embedded default model on ToyWorld
  yollava toyworld subject --seed N --out DIR   write a fresh ToyWorld subject (photos, pool, QA, truth)
  yollava providers                        execution providers this machine's onnxruntime offers
  yollava demo                             personalize samples/bo on the default model and print its results
  yollava help                             this text

Options:
  --model <dir>                            model folder when the subject file names none
  --pools <dir,...>                        default negative pools when the subject file names none
  --resume                                 train: continue an interrupted run (the default when its
                                           checkpoint matches the data and settings)
  --fresh                                  train: start over even if an interrupted run could continue
  --warm-start                             train: start from the subject's current artifact
  --mode auto|trained|reference            recognize, chat: the trained concept, or reference photos (instant
                                           mode); auto uses the trained one when it exists
  --provider auto|cpu|webgpu|cuda          execution provider (default cpu)
  --force                                  unlock: also a lock of another host (say that it runs no more)
  --json                                   machine-readable output
`;

interface Flags {
  json: boolean;
  provider: ProviderSetting;
  positional: string[];
  model?: string;
  pools?: string[];
  ask?: string;
  image?: string;
  resume: boolean;
  fresh: boolean;
  warmStart: boolean;
  mode: UseModeSetting;
  force: boolean;
}

function parseFlags(args: string[]): Flags {
  const flags: Flags = {
    json: false,
    provider: 'cpu',
    positional: [],
    resume: false,
    fresh: false,
    warmStart: false,
    mode: 'auto',
    force: false,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--json') flags.json = true;
    else if (a === '--resume') flags.resume = true;
    else if (a === '--fresh') flags.fresh = true;
    else if (a === '--force') flags.force = true;
    else if (a === '--warm-start') flags.warmStart = true;
    else if (a === '--model' || a === '--pools' || a === '--ask' || a === '--image') {
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      if (a === '--model') flags.model = path.resolve(v);
      else if (a === '--pools') flags.pools = v.split(',').map((p) => path.resolve(p));
      else if (a === '--ask') flags.ask = v;
      else flags.image = v;
    } else if (a === '--mode') {
      const m = args[++i];
      if (!m || !USE_MODES.includes(m as UseModeSetting))
        throw new UsageError(`--mode must be one of ${USE_MODES.join(', ')}`);
      flags.mode = m as UseModeSetting;
    } else if (a === '--provider') {
      const p = args[++i];
      if (!p || !PROVIDER_SETTINGS.includes(p as ProviderSetting))
        throw new UsageError(`--provider must be one of ${PROVIDER_SETTINGS.join(', ')}`);
      flags.provider = p as ProviderSetting;
    } else if (a.startsWith('--')) throw new UsageError(`unknown option ${a}`);
    else flags.positional.push(a);
  }
  return flags;
}

class UsageError extends Error {}

const out = (s: string): boolean => process.stdout.write(s);

function gib(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === 'pretrain') return runPretrainCommand(rest);
  if (cmd === 'toyworld') return runToyworldCommand(rest);
  if (cmd === 'tokenize') return runTokenizeCommand(rest);
  if (cmd === 'render-chat') return runRenderChatCommand(rest);
  const flags = parseFlags(rest);
  switch (cmd) {
    case undefined:
    case 'help':
    case '--help':
      out(USAGE);
      return 0;
    case 'providers':
      for (const p of availableProviders())
        out(`${p.name}${p.bundled ? '' : ' (needs its runtime files installed)'}\n`);
      return 0;
    case 'inspect': {
      const dir = requireArg(flags, 'inspect <model-dir>');
      const s = inspectModel(dir);
      if (flags.json) out(`${JSON.stringify(s)}\n`);
      else {
        out(
          `${s.dir}\n  architecture  ${s.architecture}\n  vision        ${s.vision}\n  text          ${s.text}\n`,
        );
        out(
          `  image tokens  ${s.imageTokens} per image\n  parameters    ${s.parameters.toLocaleString('en-US')}\n`,
        );
        out(
          `  on disk       ${gib(s.storedBytes)}\n  in memory     ${gib(s.weightBytes)} of weights (large F16/BF16 tensors stay 16-bit)\n  estimate      ${gib(s.estimatedInferenceBytes)} to run (weights + 2048-token KV cache + activations)\n`,
        );
      }
      return 0;
    }
    case 'golden': {
      const dir = requireArg(flags, 'golden <dir>');
      let ok = true;
      const reports = [];
      for (const convention of ['expanded', 'legacy'] as const) {
        const r = await runGoldenCheck(dir, convention, { provider: flags.provider });
        reports.push(r);
        ok &&= r.ok;
        if (!flags.json) {
          out(
            `\n${dir} — image tokens ${convention === 'expanded' ? 'expanded in input_ids' : 'legacy (one per image)'}\n`,
          );
          out(
            `  ${'quantity'.padEnd(34)} ${'max abs'.padStart(10)} ${'max rel'.padStart(10)} ${'tolerance'.padStart(10)}\n`,
          );
          for (const c of r.comparisons) {
            out(
              `  ${c.name.padEnd(34)} ${c.maxAbs.toExponential(2).padStart(10)} ${c.maxRel.toExponential(2).padStart(10)} ${c.tolerance.toExponential(0).padStart(10)}  ${c.ok ? 'ok' : 'FAIL'}\n`,
            );
          }
          out(
            `  ${'greedy tokens'.padEnd(34)} expected [${r.tokens.expected.join(', ')}], got [${r.tokens.actual.join(', ')}]  ${r.tokens.ok ? 'ok' : 'FAIL'}\n`,
          );
        }
      }
      if (flags.json) out(`${JSON.stringify({ ok, reports })}\n`);
      else out(ok ? '\ngolden: all within tolerance\n' : '\ngolden: FAILED\n');
      return ok ? 0 : 1;
    }
    case 'validate': {
      if (!flags.positional.length) throw new UsageError('usage: yollava validate <file.subject.yaml>...');
      let errors = 0;
      const report: Problem[] = [];
      for (const file of flags.positional) {
        const problems = await validateFile(file, flags);
        errors += problems.filter((p) => p.severity === 'error').length;
        report.push(...problems);
      }
      if (flags.json) out(`${JSON.stringify({ ok: errors === 0, problems: report })}\n`);
      else {
        for (const p of report) out(`${p.file}:${p.line}:${p.column}: ${p.severity}: ${p.message}\n`);
        if (!report.length) out(`${flags.positional.length} subject file(s): no problems\n`);
      }
      return errors ? 1 : 0;
    }
    case 'unlock': {
      const file = requireArg(flags, 'unlock <file.subject.yaml>');
      const subject = loadSubject(path.resolve(file));
      const r = breakTrainingLock(trainingLockPath(subject.dir, subject.name), flags.force);
      out(`${r.why}\n`);
      return r.removed || !existsSync(trainingLockPath(subject.dir, subject.name)) ? 0 : 1;
    }
    case 'train': {
      const file = requireArg(flags, 'train <file.subject.yaml>');
      const progress = progressPrinter(!flags.json);
      const ac = new AbortController();
      process.once('SIGINT', () => {
        process.stderr.write('\ncancelling: the previous artifact is kept\n');
        ac.abort();
      });
      const r = await runTask(
        'personalize',
        {
          subjectFile: path.resolve(file),
          options: {
            modelDir: flags.model,
            pools: flags.pools,
            // Default: continue an interrupted run of the same data and settings; --fresh starts over.
            resume: flags.fresh ? false : undefined,
            warmStart: flags.warmStart,
          },
        },
        {
          signal: ac.signal,
          onProgress: (p) => progress.update(p),
          abortGraceMs: 5000,
        },
      );
      progress.done();
      if (flags.json) out(`${JSON.stringify(r)}\n`);
      else {
        const best = r.history.find((h) => h.epoch === r.meta.bestEpoch)!;
        out(
          `trained <${r.meta.name}> in ${r.seconds.total.toFixed(1)} s (embed ${r.seconds.embed.toFixed(1)} s, conversations ${r.seconds.conversations.toFixed(1)} s, training ${r.seconds.train.toFixed(1)} s)\n`,
        );
        out(
          `  data      ${r.data.positives.length} photos, ${r.data.negatives.filter((n) => n.kind === 'hard').length} hard + ${r.data.negatives.filter((n) => n.kind === 'random').length} random negatives, ${r.data.conversations.length} conversations (${r.data.choices.length} also as two options), ${r.data.samples} samples\n`,
        );
        if (r.data.contamination.length)
          out(
            `  warning   ${r.data.contamination.length} pool image(s) duplicate a training photo and were left out: ${r.data.contamination.map((c) => path.basename(c.file)).join(', ')}\n`,
          );
        out(
          best.raw
            ? `  best      epoch ${r.meta.bestEpoch}: recognition on its training data ${fmt(best.raw.weighted)} (pos ${fmt(best.raw.positive)} / neg ${fmt(best.raw.negative)}), raw; ${fmt(best.recognition.weighted)} at the threshold that picked the epoch (held-out figures: yollava eval)\n`
            : `  best      epoch ${r.meta.bestEpoch}: recognition on its training data ${fmt(best.recognition.weighted)} at the threshold that picked the epoch\n`,
        );
        out(`  artifact  ${r.artifactDir}\n`);
      }
      return 0;
    }
    case 'eval': {
      const file = requireArg(flags, 'eval <file.subject.yaml>');
      const r = await evaluateSubject(file, {
        modelDir: flags.model,
        pools: flags.pools,
        provider: flags.provider,
      });
      if (flags.json) out(`${JSON.stringify(r)}\n`);
      else {
        out(
          `<${r.concept.name}> on ${r.counts.positives} held-out photos and ${r.counts.negatives_other_subjects + r.counts.negatives_unseen_pool} negatives\n`,
        );
        const row = (label: string, a: { weighted: number; positive: number; negative: number }): string =>
          `${label.padEnd(22)} weighted ${fmt(a.weighted)} (pos ${fmt(a.positive)} / neg ${fmt(a.negative)})`;
        out(
          `  recognition, raw (P(Yes) > P(No)); calibrated (threshold from ${r.counts.calibration_positives} training photos vs ${r.counts.calibration_negatives} pool images)\n`,
        );
        const ours = {
          weighted: r.recognition_weighted,
          positive: r.recognition_positive,
          negative: r.recognition_negative,
        };
        out(`    ${row(`<${r.concept.name}>`, ours)}; calibrated ${fmt(r.calibrated.weighted)}\n`);
        for (const [label, b] of Object.entries(r.baselines))
          if (b)
            out(`    ${row(label.replace('_', ' '), b.raw)}; calibrated ${fmt(b.calibrated.weighted)}\n`);
        const orders = (x?: number) => (x === undefined ? '' : `; in both option orders ${fmt(x)}`);
        if (r.visual_qa !== undefined)
          out(`  visual QA     ${fmt(r.visual_qa)}${orders(r.calibrated.visual_qa)}\n`);
        if (r.text_qa !== undefined)
          out(`  text QA       ${fmt(r.text_qa)}${orders(r.calibrated.text_qa)}\n`);
        if (r.concept.selfDescription) out(`  it says of itself: ${r.concept.selfDescription}\n`);
      }
      return 0;
    }
    case 'recognize': {
      const [file, ...targets] = flags.positional;
      if (!file || !targets.length)
        throw new UsageError('usage: yollava recognize <file.subject.yaml> <image|folder>...');
      const images = targets.flatMap((t) => resolveImages(process.cwd(), t, 'images'));
      const r = await recognize(file, images, {
        modelDir: flags.model,
        provider: flags.provider,
        mode: flags.mode,
      });
      if (flags.json) out(`${JSON.stringify(r)}\n`);
      else {
        if (r[0]?.mode === 'reference')
          process.stderr.write(
            'instant mode: the subject is not trained yet, so its training photos serve as references in the prompt\n',
          );
        for (const x of r)
          out(`${x.present ? 'yes' : 'no '}  ${x.score.toFixed(3).padStart(8)}  ${x.image}\n`);
      }
      return 0;
    }
    case 'chat': {
      if (!flags.positional.length || !flags.ask)
        throw new UsageError('usage: yollava chat <file.subject.yaml>... --ask "question" [--image photo]');
      let answer = '';
      for await (const delta of chat(flags.positional, flags.ask, {
        modelDir: flags.model,
        image: flags.image,
        maxNewTokens: 64,
        mode: flags.mode,
        onModes: (modes) => {
          const instant = modes.filter((m) => m.mode === 'reference').map((m) => `<${m.name}>`);
          if (instant.length && !flags.json)
            process.stderr.write(
              `instant mode: ${instant.join(', ')} not trained yet; answering from reference photos\n`,
            );
        },
      })) {
        answer += delta;
        if (!flags.json) out(delta);
      }
      out(flags.json ? `${JSON.stringify({ answer: answer.trim() })}\n` : '\n');
      return 0;
    }
    case 'demo':
      return runDemo(path.resolve(__dirname, '..'));
    default:
      throw new UsageError(`unknown command "${cmd}"`);
  }
}

function fmt(x: number): string {
  return x.toFixed(3);
}

/** Schema and dataset problems of one subject file (the same checks as the editor's), with line and column. */
async function validateFile(file: string, flags: Flags): Promise<Problem[]> {
  if (!existsSync(file)) return [{ file, line: 1, column: 1, severity: 'error', message: 'file not found' }];
  let text: string;
  try {
    text = readRegularTextSync(file, 'a subject file', FILE_CAPS.subject);
  } catch (e) {
    return [{ file, line: 1, column: 1, severity: 'error', message: (e as Error).message }];
  }
  const otherNames = siblingNames(file);
  const parsed = parseSubject(text);
  const declared = parsed.value?.model;
  // The model training would use, as the editor picks it: the file's, --model, else the default model.
  const modelDir = declared ? path.resolve(path.dirname(file), declared) : (flags.model ?? defaultModelDir());
  let isVocabularyWord: ((w: string) => boolean) | undefined;
  if (modelDir && existsSync(path.join(modelDir, 'tokenizer.json'))) {
    try {
      const tok = LlavaTokenizer.load(modelDir);
      isVocabularyWord = (w) => tok.hasToken(w);
    } catch {
      // an unreadable tokenizer is the model's problem, reported where the model is used
    }
  }
  const v = await validateSubject(path.resolve(file), parsed, {
    cache: new ImageCheckCache(),
    otherNames,
    isVocabularyWord,
    // The CLI's workspace is the folder above the subject's own (where its siblings are looked for): photo
    // folders outside it get the editor's warning.
    workspaceRoots: [path.dirname(path.dirname(path.resolve(file)))],
  });
  return v.diagnostics.map((d: SubjectDiagnostic) => {
    const { line, column } = lineColumn(v.parsed, d.start);
    return { file, line, column, severity: d.severity, message: d.message };
  });
}

interface Problem {
  file: string;
  line: number;
  column: number;
  severity: string;
  message: string;
}

function requireArg(flags: Flags, usage: string): string {
  const a = flags.positional[0];
  if (!a) throw new UsageError(`usage: yollava ${usage}`);
  return a;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    if (e instanceof AbortedError) {
      process.stderr.write('yollava: cancelled; the previous artifact (if any) is unchanged\n');
      process.exit(130);
    }
    process.stderr.write(
      e instanceof UsageError ? `yollava: ${e.message}\n\n${USAGE}` : `yollava: ${e.message}\n`,
    );
    process.exit(e instanceof UsageError || e instanceof TokenizerCommandError ? 2 : 1);
  },
);
