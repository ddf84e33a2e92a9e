#!/usr/bin/env node
// The `yollava` command. Each subcommand is a thin layer over the engine.
import { availableProviders } from '../engine/runtime/session';

const USAGE = `yollava — personalize a vision-language model to your own subject (Yo'LLaVA)

Usage:
  yollava providers        list the execution providers this machine's onnxruntime offers
  yollava demo             personalize the sample subject (not available yet: see README)
  yollava help             this text
`;

async function main(argv: string[]): Promise<number> {
  const [cmd] = argv;
  switch (cmd) {
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(USAGE);
      return 0;
    case 'providers':
      for (const p of availableProviders())
        process.stdout.write(`${p.name}${p.bundled ? '' : ' (needs its runtime files installed)'}\n`);
      return 0;
    case 'demo':
      process.stderr.write(
        'yollava demo: the embedded default model (samples/models/toy-llava) does not exist yet, so there is nothing to personalize.\n' +
          'It arrives with the ToyWorld pretraining issue; until then the engine is exercised by `npm test` and `npm run bench`.\n',
      );
      return 2;
    default:
      process.stderr.write(`yollava: unknown command "${cmd}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`yollava: ${e.message}\n`);
    process.exit(1);
  },
);
