#!/usr/bin/env node
// The `yollava` command. Each subcommand is a thin layer over the engine.
import { runGoldenCheck } from '../engine/models/llava/golden-check';
import { inspectModel } from '../engine/models/llava/inspect';
import { availableProviders, PROVIDER_SETTINGS, type ProviderSetting } from '../engine/runtime/session';

const USAGE = `yollava — personalize a vision-language model to your own subject (Yo'LLaVA)

Usage:
  yollava inspect <model-dir> [--json]     architecture, parameter count and memory estimate
  yollava golden <dir> [--provider P]      check the implementation against Hugging Face reference outputs
  yollava providers                        execution providers this machine's onnxruntime offers
  yollava demo                             personalize the sample subject (not available yet: see README)
  yollava help                             this text

Options:
  --provider auto|cpu|webgpu|cuda          execution provider (default cpu)
  --json                                   machine-readable output
`;

interface Flags {
  json: boolean;
  provider: ProviderSetting;
  positional: string[];
}

function parseFlags(args: string[]): Flags {
  const flags: Flags = { json: false, provider: 'cpu', positional: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--json') flags.json = true;
    else if (a === '--provider') {
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
          `  on disk       ${gib(s.storedBytes)}\n  float32       ${gib(s.weightBytesF32)} of weights in memory\n  estimate      ${gib(s.estimatedInferenceBytes)} to run (weights + 2048-token KV cache + activations)\n`,
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
    case 'demo':
      process.stderr.write(
        'yollava demo: the embedded default model (samples/models/toy-llava) does not exist yet, so there is nothing to personalize.\n' +
          'It arrives with the ToyWorld pretraining issue; until then the engine is exercised by `npm test` and `npm run bench`.\n',
      );
      return 2;
    default:
      throw new UsageError(`unknown command "${cmd}"`);
  }
}

function requireArg(flags: Flags, usage: string): string {
  const a = flags.positional[0];
  if (!a) throw new UsageError(`usage: yollava ${usage}`);
  return a;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(
      e instanceof UsageError ? `yollava: ${e.message}\n\n${USAGE}` : `yollava: ${e.message}\n`,
    );
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);
