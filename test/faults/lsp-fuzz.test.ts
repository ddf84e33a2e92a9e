// The language server under abuse: a seeded run of random edits over stdio (incremental changes, random
// bytes, deep nesting, huge lines, rapid open and close) while hover is asked all along. No crash; every
// version that settles gets its diagnostics; a closed document gets none afterwards; hover stays fast;
// memory stays bounded. YOLLAVA_FUZZ_EDITS sets the number of edits (default 10,000).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Rng } from '../../server/src/engine/util/rng';
import { writeSubjectWorkspace } from '../../server/src/engine/toyworld/workspace';
import { LspClient } from '../helpers/lsp-client';

const root = path.join(__dirname, '..', '..');
if (!existsSync(path.join(root, 'dist', 'server.js')))
  spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
const EDITS = Number(process.env['YOLLAVA_FUZZ_EDITS'] ?? 10_000);
/** Resident memory the server may reach during the run. */
const RSS_BOUND_MB = 600;
/**
 * The target is 100 ms (measured here: 31 ms). The test allows a noisy machine five times that, which still
 * catches the regressions seen so far (a quadratic regex on huge lines gave 957 ms).
 */
const HOVER_P95_BOUND_MS = 500;

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function positionAt(text: string, offset: number): { line: number; character: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length - 1;
  return { line, character: offset - (before.lastIndexOf('\n') + 1) };
}

const ALPHABET = 'abcxyz019 :-[]{}#\'"\n\t*&!|>,?%@`';

describe('language server fuzz', { timeout: 20 * 60_000 }, () => {
  it(`${EDITS} random edits: no crash, diagnostics for every settled version, fast hover, bounded memory`, async () => {
    const ws = mkdtempSync(path.join(tmpdir(), 'yollava-fuzz-'));
    const file = await writeSubjectWorkspace(ws, {
      name: 'bo',
      object: { kind: 'mug', color: 'red', pattern: 'striped', accessory: 'none' },
      train: 5,
      test: 2,
      negatives: 4,
    });
    const original = readFileSync(file, 'utf8');
    const other = path.join(ws, 'bo', 'churn.subject.yaml');
    const client = await LspClient.start(ws);
    const rng = new Rng(20261130);
    let text = original;
    let version = 1;
    const uri = client.open(file, text);
    await client.waitFor(uri, () => true, 20_000);
    const rssBefore = rssMb(client.proc.pid!);
    let rssPeak = rssBefore;
    const hovers: number[] = [];
    let settled = 0;
    const closedAt: number[] = [];
    const churnUri = `file://${other}`;
    try {
      for (let i = 0; i < EDITS; i++) {
        const op = rng.next();
        let start = rng.int(text.length + 1);
        let end = start;
        let insert = '';
        if (op < 0.6) {
          end = Math.min(text.length, start + rng.int(4));
          insert = Array.from({ length: rng.int(6) }, () => ALPHABET[rng.int(ALPHABET.length)]).join('');
        } else if (op < 0.7) {
          insert = String.fromCharCode(...Array.from({ length: 1 + rng.int(16) }, () => rng.int(0xd7ff)));
        } else if (op < 0.75) {
          insert = '['.repeat(500 + rng.int(3000));
        } else if (op < 0.8) {
          insert = `k${i}: ${'v'.repeat(20_000 + rng.int(60_000))}\n`;
        } else if (op < 0.85) {
          // Rapid open and close of another document.
          const u = client.open(other, original.replace('name: bo', 'name: churn'));
          client.change(u, 2, { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, '# x\n');
          client.close(u);
          closedAt.push(client.diagnostics.get(churnUri)?.length ?? 0);
          continue;
        } else if (op < 0.9 || text.length > 300_000) {
          start = 0;
          end = text.length;
          insert = original;
        } else {
          end = Math.min(text.length, start + rng.int(200));
        }
        const range = { start: positionAt(text, start), end: positionAt(text, end) };
        text = text.slice(0, start) + insert + text.slice(end);
        client.change(uri, ++version, range, insert);
        if (i % 10 === 0) {
          const line = rng.int(Math.max(1, text.split('\n').length));
          const t0 = performance.now();
          await client.request('textDocument/hover', {
            textDocument: { uri },
            position: { line, character: 1 },
          });
          hovers.push(performance.now() - t0);
        }
        if (i % 500 === 499) {
          // Let this version settle: it must get diagnostics.
          await client.waitFor(uri, () => true, 60_000, version);
          settled++;
          rssPeak = Math.max(rssPeak, rssMb(client.proc.pid!));
        }
      }
      await client.waitFor(uri, () => true, 60_000, version);
      settled++;
      assert.equal(client.proc.exitCode, null, 'the server is alive');
      // After each close of the churn document, only the clearing publish (empty) came for it.
      const churn = client.diagnostics.get(churnUri) ?? [];
      for (const at of closedAt) {
        const next = churn.slice(at).find(() => true);
        if (next) assert.equal(next.diagnostics.length, 0, 'the first publish after a close clears');
      }
      const lastChurn = churn[churn.length - 1];
      assert.ok(!lastChurn || lastChurn.diagnostics.length === 0, 'a closed document keeps no diagnostics');
      const sorted = [...hovers].sort((a, b) => a - b);
      const p95 = sorted[Math.floor(sorted.length * 0.95)]!;
      const p50 = sorted[Math.floor(sorted.length * 0.5)]!;
      const rssAfter = rssMb(client.proc.pid!);
      console.log(
        `fuzz: ${EDITS} edits, ${settled} settled versions checked, hover p50 ${p50.toFixed(1)} ms p95 ${p95.toFixed(1)} ms over ${hovers.length} hovers, server RSS ${rssBefore.toFixed(0)} → peak ${rssPeak.toFixed(0)} → ${rssAfter.toFixed(0)} MB`,
      );
      assert.ok(p95 <= HOVER_P95_BOUND_MS, `hover p95 ${p95.toFixed(1)} ms`);
      assert.ok(Math.max(rssPeak, rssAfter) <= RSS_BOUND_MB, `server RSS peaked at ${rssPeak.toFixed(0)} MB`);
    } finally {
      await client.stop();
    }
  });
});
