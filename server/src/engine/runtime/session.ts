// onnxruntime-node sessions over compiled graphs, with an execution-provider setting and input checks.
import * as ort from 'onnxruntime-node';
import type { CompiledModel, ValueSpec } from '../graph/serialize';
import type { HostTensor } from './host-tensor';
import { validateFeeds } from './validate-inputs';
import { vulkanLoaderPresent } from './vulkan';

export type ProviderName = 'cpu' | 'webgpu' | 'cuda';
export type ProviderSetting = ProviderName | 'auto';
export const PROVIDER_SETTINGS: readonly ProviderSetting[] = ['auto', 'cpu', 'webgpu', 'cuda'];

export interface SessionOptions {
  provider?: ProviderSetting;
  /** Intra-op threads; default: ORT's choice (all cores). */
  threads?: number;
  /**
   * Graph optimization level. Float64 graphs need 'basic': some of ORT's fusions have float-only kernels.
   */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Name used in error messages. */
  name?: string;
}

export class ProviderError extends Error {
  override name = 'ProviderError';
}

// Failures to start a provider come back as exceptions with the reason; ORT's own console logging of the
// same failure (to stderr) would only repeat them.
ort.env.logLevel = 'fatal';

/** The order `auto` tries providers in: the fastest that works on this machine wins. */
const AUTO_ORDER: ProviderName[] = ['cuda', 'webgpu', 'cpu'];

export class GraphSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly provider: ProviderName,
    /** Why providers earlier in `auto`'s order were passed over. */
    readonly providerNotes: string[],
    readonly inputs: ValueSpec[],
    readonly outputs: ValueSpec[],
    readonly name: string,
  ) {}

  static async create(model: CompiledModel, opts: SessionOptions = {}): Promise<GraphSession> {
    const setting = opts.provider ?? 'cpu';
    const name = opts.name ?? 'graph';
    const candidates = setting === 'auto' ? AUTO_ORDER : [setting];
    const notes: string[] = [];
    for (const provider of candidates) {
      // Probing WebGPU without Vulkan makes Dawn print a native warning the editor shows as an error.
      if (setting === 'auto' && provider === 'webgpu' && !vulkanLoaderPresent()) {
        notes.push('webgpu: the Vulkan loader (libvulkan.so.1) is not installed');
        continue;
      }
      try {
        const session = await ort.InferenceSession.create(model.bytes, {
          executionProviders: [provider],
          graphOptimizationLevel: opts.optimization ?? 'all',
          intraOpNumThreads: opts.threads ?? 0,
          interOpNumThreads: 1,
          executionMode: 'sequential',
          logSeverityLevel: 3,
          // Memory patterns pre-plan one block per input shape and keep it; with a KV cache every decode step
          // has a new shape, so the plans pile up (0.5b forward: peak 5.0 → 3.9 GB, decode 1.9 → 7.0 tokens/s
          // without them). The arena stays on: without it decoding was 4 × slower.
          enableMemPattern: false,
          ...(model.externalData.length ? { externalData: model.externalData } : {}),
        });
        return new GraphSession(session, provider, notes, model.inputs, model.outputs, name);
      } catch (e) {
        const reason = firstLine((e as Error).message);
        if (setting !== 'auto') {
          throw new ProviderError(`${name}: the ${provider} execution provider could not start: ${reason}`);
        }
        notes.push(`${provider}: ${reason}`);
      }
    }
    throw new ProviderError(`${name}: no execution provider could start (${notes.join('; ')})`);
  }

  /** Runs the graph. `fetch` limits which outputs are computed (default: all). */
  async run(feeds: Record<string, HostTensor>, fetch?: string[]): Promise<Record<string, HostTensor>> {
    validateFeeds(this.inputs, feeds, this.name);
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [k, t] of Object.entries(feeds)) ortFeeds[k] = toOrt(t);
    const result = fetch ? await this.session.run(ortFeeds, fetch) : await this.session.run(ortFeeds);
    const out: Record<string, HostTensor> = {};
    for (const [k, t] of Object.entries(result)) out[k] = fromOrt(t);
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.slice(0, 300);
}

function toOrt(t: HostTensor): ort.Tensor {
  const type = t.dtype === 'float16' ? 'float16' : t.dtype;
  return new ort.Tensor(type, t.data as never, t.shape);
}

function fromOrt(t: ort.Tensor): HostTensor {
  return {
    dtype: t.type as HostTensor['dtype'],
    shape: t.dims.map(Number),
    data: t.data as HostTensor['data'],
  };
}

/** Which providers this onnxruntime-node build can offer (CUDA only where its files were installed). */
export function availableProviders(): { name: string; bundled: boolean }[] {
  return ort.listSupportedBackends().map((b) => ({ name: b.name, bundled: b.bundled }));
}
