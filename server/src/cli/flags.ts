// The options every subcommand shares, parsed once, and the small helpers their output uses.
import path from 'node:path';
import { PROVIDER_SETTINGS, USE_MODES, type ProviderSetting, type UseModeSetting } from '../engine';

/** One subcommand of `yollava`: its name, its line in the usage text, and what it does. */
export interface CliCommand {
  name: string;
  /** Its line in `yollava help` (without the leading two spaces). */
  usage: string;
  run(flags: Flags): Promise<number>;
}

export interface Flags {
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

export function parseFlags(args: string[]): Flags {
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

export class UsageError extends Error {}

export const out = (s: string): boolean => process.stdout.write(s);

export function gib(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

export function fmt(x: number): string {
  return x.toFixed(3);
}

export function requireArg(flags: Flags, usage: string): string {
  const a = flags.positional[0];
  if (!a) throw new UsageError(`usage: yollava ${usage}`);
  return a;
}
