// The yollava command as a user runs it (the built bundle).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';

const root = path.join(__dirname, '..', '..');
const cli = path.join(root, 'dist', 'cli.js');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: root });

describe('yollava CLI', () => {
  before(() => {
    if (!existsSync(cli)) spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
  });

  it('golden passes on llava-tiny-A and prints each quantity', () => {
    const r = run('golden', 'test/fixtures/golden/llava-tiny-A');
    assert.equal(r.status, 0, r.stderr);
    for (const q of [
      'image_features',
      'inputs_embeds',
      'logits',
      'loss',
      'grad_inputs_embeds',
      'grad_lm_head_weight_rows_120_125',
      'greedy tokens',
    ]) {
      assert.match(r.stdout, new RegExp(q));
    }
    assert.match(r.stdout, /golden: all within tolerance/);
  });

  it('inspect --json reports the architecture and parameter count', () => {
    const r = run('inspect', 'test/fixtures/golden/llava-tiny-A', '--json');
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    // 46,922 stored; the last vision layer and post_layernorm (6,853) are never used with feature layer -2.
    assert.equal(s.parameters, 46922 - 6853);
    assert.match(s.architecture, /clip vision, llama text/);
  });

  it('bad input: a clear message and a non-zero exit, never a stack trace', () => {
    const r = run('inspect', '/no/such/dir');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /\/no\/such\/dir: the model folder does not exist/);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
    const u = run('frobnicate');
    assert.equal(u.status, 2);
    assert.match(u.stderr, /unknown command "frobnicate"/);
  });
});
