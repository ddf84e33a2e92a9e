// Language-server benchmark, over stdio with a real LSP client: diagnostics latency after an edit of a
// subject with 20 photos (warm image cache), and the first validation of a folder of 1,000 photos.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomScene, renderScene } from '../server/src/engine/toyworld/scenes';
import { randomInstance } from '../server/src/engine/toyworld/world';
import { Rng } from '../server/src/engine/util/rng';
import { LspClient } from '../test/helpers/lsp-client';
import { table } from './timing';

async function writePhotos(dir: string, n: number, seed: number): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(seed);
  // Varied ToyWorld scenes: different objects, colours and backgrounds, so none are near duplicates.
  for (let i = 0; i < n; i++)
    writeFileSync(
      path.join(dir, `${String(i).padStart(4, '0')}.png`),
      await renderScene(randomScene(randomInstance(rng), rng), 96),
    );
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

export async function runLspBench(json: boolean): Promise<Record<string, unknown>> {
  const ws = mkdtempSync(path.join(os.tmpdir(), 'yollava-bench-lsp-'));
  const client = await LspClient.start(ws);
  try {
    await writePhotos(path.join(ws, 'small', 'photos'), 20, 1);
    const small = path.join(ws, 'small', 'small.subject.yaml');
    const text = 'name: small\ncategory: object\nimages:\n  train: photos\ntraining:\n  epochs: 15\n';
    writeFileSync(small, text);
    const uri = client.open(small, text);
    await client.waitFor(uri, (d) => d.length === 0, 60_000);
    const latencies: number[] = [];
    for (let v = 2; v < 42; v++) {
      // Alternate between a valid and an invalid value of epochs (line 5, characters 10–12).
      const value = v % 2 ? '15' : 'xx';
      const t0 = performance.now();
      client.change(uri, v, { start: { line: 5, character: 10 }, end: { line: 5, character: 12 } }, value);
      await client.waitFor(uri, (d) => (value === '15' ? d.length === 0 : d.length === 1), 30_000, v);
      latencies.push(performance.now() - t0);
    }

    await writePhotos(path.join(ws, 'large', 'photos'), 1000, 2);
    const large = path.join(ws, 'large', 'large.subject.yaml');
    const ltext = 'name: large\ncategory: object\nimages:\n  train: photos\n';
    writeFileSync(large, ltext);
    const t0 = performance.now();
    const luri = client.open(large, ltext);
    await client.waitFor(luri, () => true, 120_000);
    const first = (performance.now() - t0) / 1000;

    const result = {
      edit_latency_ms_median: Math.round(percentile(latencies, 50) * 10) / 10,
      edit_latency_ms_p95: Math.round(percentile(latencies, 95) * 10) / 10,
      first_validation_1000_images_s: Math.round(first * 100) / 100,
    };
    if (!json) {
      process.stdout.write(
        table('lsp (stdio, real LSP client)', [
          [
            'edit → diagnostics',
            `median ${result.edit_latency_ms_median} ms, p95 ${result.edit_latency_ms_p95} ms (20 photos, warm cache, ${latencies.length} edits)`,
          ],
          ['first validation', `${result.first_validation_1000_images_s} s for a folder of 1,000 photos`],
        ]),
      );
    }
    return result;
  } finally {
    await client.stop();
    rmSync(ws, { recursive: true, force: true });
  }
}
