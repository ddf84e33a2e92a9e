// Another editor: the language server is a standard LSP server, so Neovim's built-in client (Debian's
// neovim, headless) gets the same diagnostics on a broken subject file as VS Code does.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { writeSubjectWorkspace } from '../../server/src/engine/toyworld/workspace';

const root = path.join(__dirname, '..', '..');

describe('Neovim as the LSP client', { timeout: 10 * 60_000 }, () => {
  before(() => {
    const setup = spawnSync('bash', [path.join(root, 'scripts', 'e2e-setup.sh')], { encoding: 'utf8' });
    if (setup.status !== 0) throw new Error(`e2e setup failed:\n${setup.stderr.slice(-2000)}`);
    if (!existsSync(path.join(root, 'dist', 'server.js')))
      spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
  });

  it("shows the server's diagnostics on a broken subject file, at the right line and column", async () => {
    const ws = mkdtempSync(path.join(tmpdir(), 'yollava-nvim-'));
    const file = await writeSubjectWorkspace(ws, {
      name: 'bo',
      object: { kind: 'mug', color: 'red', pattern: 'striped', accessory: 'none' },
      train: 5,
      test: 0,
      negatives: 4,
    });
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^category: .*$/m, 'category: vase'));
    const out = path.join(ws, 'diagnostics.json');
    const r = spawnSync(
      'nvim',
      [
        '--headless',
        '--clean',
        '-c',
        `luafile ${path.join(root, 'test', 'fixtures', 'neovim', 'diagnostics.lua')}`,
      ],
      {
        encoding: 'utf8',
        timeout: 60_000,
        env: {
          ...process.env,
          YOLLAVA_NVIM_OUT: out,
          YOLLAVA_FILE: file,
          YOLLAVA_NODE: process.execPath,
          YOLLAVA_SERVER: path.join(root, 'dist', 'server.js'),
          YOLLAVA_ROOT: ws,
        },
      },
    );
    assert.ok(existsSync(out), `nvim wrote nothing: ${r.stderr}${r.stdout}`);
    const diags = JSON.parse(readFileSync(out, 'utf8')) as {
      line: number;
      col: number;
      message: string;
      severity: number;
    }[];
    const line = readFileSync(file, 'utf8')
      .split('\n')
      .findIndex((l) => l.startsWith('category:'));
    const d = diags.find((x) => x.message.startsWith('category: must be one of'));
    assert.ok(d, JSON.stringify(diags));
    assert.equal(d.line, line);
    assert.equal(d.col, 'category: '.length);
    assert.equal(d.severity, 1);
  });
});
