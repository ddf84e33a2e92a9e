// The warm model's thread: kept between requests, let go when memory runs short or when told to.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ModelHost } from '../../server/src/jobs/model-host';

describe('ModelHost', () => {
  it('keeps its thread between requests and lets it go when free memory is short', async () => {
    const host = new ModelHost({ minFreeBytes: 0, memoryCheckMs: 20 });
    try {
      assert.deepEqual(await host.run('models.loaded', {}), []);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(host.warm, true, 'with memory to spare the thread stays');
    } finally {
      await host.close();
    }
    const short = new ModelHost({ minFreeBytes: Number.MAX_SAFE_INTEGER, memoryCheckMs: 20 });
    try {
      await short.run('models.loaded', {});
      assert.equal(short.warm, true);
      const until = Date.now() + 5000;
      while (short.warm && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      assert.equal(short.warm, false, 'memory short: the idle thread was let go');
      // The next request starts it again.
      await short.run('models.loaded', {});
      assert.equal(short.warm, true);
    } finally {
      await short.close();
    }
  });
});
