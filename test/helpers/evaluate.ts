// Runs named outputs of a graph once on the CPU and returns plain arrays.
import { serialize, type Tensor } from '../../server/src/engine/graph/index';
import type { HostTensor } from '../../server/src/engine/runtime/host-tensor';
import { GraphSession } from '../../server/src/engine/runtime/session';

export async function evaluate(
  outputs: Record<string, Tensor>,
  feeds: Record<string, HostTensor> = {},
): Promise<Record<string, HostTensor>> {
  const session = await GraphSession.create(serialize(outputs), { optimization: 'basic', threads: 1 });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}
