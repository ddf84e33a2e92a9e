#!/usr/bin/env node
// Runs the test suites with node's built-in runner (TypeScript through tsx). Node 20's --test takes no
// globs, so the files are found here. It builds dist/ first. Usage: node scripts/run-tests.mjs [unit|server|faults|e2e|all] [filter]
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const suite = process.argv[2] ?? 'all';
const filter = process.argv[3];
const suites = suite === 'all' ? ['unit', 'server', 'faults', 'e2e'] : [suite];

function find(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return find(p);
    return name.endsWith('.test.ts') ? [p] : [];
  });
}

const files = suites
  .flatMap((s) => find(path.join(root, 'test', s)))
  .filter((f) => !filter || f.includes(filter))
  .sort();
if (files.length === 0) {
  console.error(`no test files for suite "${suite}"${filter ? ` matching "${filter}"` : ''}`);
  process.exit(1);
}
// Build first: the server and CLI tests run the bundles in dist/, which must be this source's, not a stale one.
const build = spawnSync(process.execPath, [path.join(root, 'esbuild.mjs')], { stdio: 'inherit', cwd: root });
if (build.status !== 0) {
  console.error('run-tests: the build failed; no test was run');
  process.exit(build.status ?? 1);
}
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files],
  { stdio: 'inherit', cwd: root },
);
process.exit(r.status ?? 1);
