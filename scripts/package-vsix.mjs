#!/usr/bin/env node
// Builds yollava-<version>-linux-x64.vsix: the bundles plus the native packages (onnxruntime-node, sharp)
// for linux-x64. Only those leave node_modules: the bundles need nothing else, and
// .vscodeignore names what the VSIX carries.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const out = `yollava-${version}-linux-x64.vsix`;
const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
const r = spawnSync(
  process.execPath,
  [
    vsce,
    'package',
    '--target',
    'linux-x64',
    '--allow-missing-repository',
    '--no-rewrite-relative-links',
    '--skip-license',
    '-o',
    out,
  ],
  { cwd: root, stdio: 'inherit' },
);
if (r.status !== 0) process.exit(r.status ?? 1);
console.log(path.join(root, out));
