// Models kept loaded between requests (a warm model for chat and recognition). A model is keyed by its
// folder, the files' modification times (a re-exported model is loaded again) and the execution provider.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ProviderSetting } from '../../runtime/session';
import { LlavaModel } from './model';

function filesStamp(dir: string): string {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') || f.endsWith('.safetensors'))
    .sort()
    .map((f) => `${f}@${statSync(path.join(dir, f)).mtimeMs}`)
    .join(',');
}

export class ModelCache {
  private readonly models = new Map<string, LlavaModel>();

  /** The loaded model for `dir`, loading it (and dropping an older version of it) when needed. */
  get(dir: string, provider: ProviderSetting | undefined): { model: LlavaModel; loaded: boolean } {
    const abs = path.resolve(dir);
    const key = `${abs}|${provider ?? 'cpu'}|${filesStamp(abs)}`;
    const hit = this.models.get(key);
    if (hit) return { model: hit, loaded: false };
    for (const [k, m] of this.models)
      if (k.startsWith(`${abs}|`)) {
        this.models.delete(k);
        void m.release();
      }
    const model = LlavaModel.load(abs, { provider });
    this.models.set(key, model);
    return { model, loaded: true };
  }

  /** Folders of the models held now. */
  loaded(): string[] {
    return [...this.models.keys()].map((k) => k.split('|')[0]!);
  }

  async releaseAll(): Promise<void> {
    const all = [...this.models.values()];
    this.models.clear();
    for (const m of all) await m.release();
  }
}
