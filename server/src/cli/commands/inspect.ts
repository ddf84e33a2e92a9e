// yollava inspect: what a model folder holds and what it needs to run.
import { inspectModel } from '../../engine';
import { out, gib, requireArg, type Flags, type CliCommand } from '../flags';

async function run(flags: Flags): Promise<number> {
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

export const inspectCommand: CliCommand = {
  name: 'inspect',
  usage: 'yollava inspect <model-dir> [--json]     architecture, parameter count and memory estimate',
  run,
};
