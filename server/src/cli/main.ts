#!/usr/bin/env node
// The `yollava` command: a table of subcommands, one file each under commands/ (the pretraining, ToyWorld
// and tokenizer commands parse their own arguments). Each is a thin layer over the engine.
import path from 'node:path';
import { AbortedError, availableProviders } from '../engine';
import { chatCommand } from './commands/chat';
import { evaluateCommand } from './commands/evaluate';
import { goldenCommand } from './commands/golden';
import { inspectCommand } from './commands/inspect';
import { recognizeCommand } from './commands/recognize';
import { trainCommand } from './commands/train';
import { unlockCommand } from './commands/unlock';
import { validateCommand } from './commands/validate';
import { runDemo } from './demo';
import { out, parseFlags, UsageError, type CliCommand } from './flags';
import { runPretrainCommand } from './pretrain';
import {
  runRenderChatCommand,
  runTokenizeCommand,
  TOKENIZER_USAGE,
  TokenizerCommandError,
} from './tokenizer-commands';
import { runToyworldCommand } from './toyworld';

/** Commands that take the shared options (flags.ts), in the order `yollava help` lists them. */
const COMMANDS: CliCommand[] = [
  validateCommand,
  trainCommand,
  evaluateCommand,
  recognizeCommand,
  chatCommand,
  unlockCommand,
  inspectCommand,
  goldenCommand,
];

/** Commands that parse their own arguments. */
const RAW_COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  pretrain: runPretrainCommand,
  toyworld: runToyworldCommand,
  tokenize: runTokenizeCommand,
  'render-chat': runRenderChatCommand,
};

const USAGE = `yollava — personalize a vision-language model to your own subject (Yo'LLaVA)

Usage:
${COMMANDS.map((c) => `  ${c.usage}\n`).join('')}${TOKENIZER_USAGE}  yollava pretrain [--resume] [--help]     pretrain the embedded default model on ToyWorld
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
  --mode auto|trained|reference|description
                                           recognize, chat: the trained concept, reference photos (instant
                                           mode), or the file's description in words; auto uses the trained
                                           one when it exists
  --provider auto|cpu|webgpu|cuda          execution provider (default cpu)
  --force                                  unlock: also a lock of another host (say that it runs no more)
  --json                                   machine-readable output
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const raw = cmd !== undefined ? RAW_COMMANDS[cmd] : undefined;
  if (raw) return raw(rest);
  const flags = parseFlags(rest);
  const command = COMMANDS.find((c) => c.name === cmd);
  if (command) return command.run(flags);
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
    case 'demo':
      return runDemo(path.resolve(__dirname, '..'));
    default:
      throw new UsageError(`unknown command "${cmd}"`);
  }
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
