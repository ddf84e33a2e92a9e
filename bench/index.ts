// npm run bench -- <suite...> [--json]. Prints figures; never asserts timings (these machines are noisy).
import { UsageError } from './arguments';
import { runChatBench } from './chat';
import { runEngineBench } from './engine';
import { runModelBench } from './model';
import { runPersonalizeBench } from './personalize';
import { runLspBench } from './lsp';
import { runQaReadingBench } from './qa-reading';
import { runRealSizeBench } from './real-size';
import { runToyworldBench } from './toyworld';
import type { ProviderSetting } from '../server/src/engine/runtime/session';

const args = process.argv.slice(2);
const json = args.includes('--json');
const VALUED = [
  '--provider',
  '--subjects',
  '--seeds',
  '--variants',
  '--kind',
  '--jobs',
  '--recipe',
  '--model',
  '--shape',
];
const suites = args.filter((a, i) => !a.startsWith('--') && !VALUED.includes(args[i - 1] ?? ''));
const providerAt = args.indexOf('--provider');
const provider = (providerAt >= 0 ? args[providerAt + 1] : 'cpu') as ProviderSetting;
const modelAt = args.indexOf('--model');
const known: Record<string, (json: boolean) => Promise<Record<string, unknown>>> = {
  engine: runEngineBench,
  model: (j) => runModelBench(j, provider, modelAt >= 0 ? args[modelAt + 1] : undefined),
  personalize: (j) => runPersonalizeBench(j, args.includes('--compare-init')),
  lsp: runLspBench,
  toyworld: (j) => runToyworldBench(j, args),
  'qa-reading': (j) => runQaReadingBench(j, args),
  'real-size': (j) => runRealSizeBench(j, args),
  chat: (j) => runChatBench(j, args),
};
/**
 * Run only when named: the paper's table takes over an hour on 2 cores; qa-reading diagnoses the model;
 * real-size writes gigabytes of checkpoint and runs for minutes; chat trains ten subjects.
 */
const EXPLICIT = new Set(['toyworld', 'qa-reading', 'real-size', 'chat']);

async function main(): Promise<void> {
  const chosen = suites.length ? suites : Object.keys(known).filter((k) => !EXPLICIT.has(k));
  const unknown = chosen.filter((s) => !known[s]);
  if (unknown.length) {
    process.stderr.write(
      `bench: unknown suite(s) ${unknown.join(', ')}; known: ${Object.keys(known).join(', ')}\n`,
    );
    process.exit(2);
  }
  const results: Record<string, unknown> = {};
  for (const s of chosen) results[s] = await known[s]!(json);
  if (json) process.stdout.write(`${JSON.stringify(chosen.length === 1 ? results[chosen[0]!] : results)}\n`);
}

main().catch((e: Error) => {
  if (e instanceof UsageError) {
    process.stderr.write(`bench: ${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`bench: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
