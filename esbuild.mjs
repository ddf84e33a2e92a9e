// One bundle per entry point. Native packages (onnxruntime-node, sharp) stay external: they load their
// own binaries at run time.
import * as esbuild from 'esbuild';
import { existsSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  external: ['onnxruntime-node', 'sharp', 'vscode'],
  logLevel: 'warning',
};

const entries = [
  { in: 'server/src/cli/main.ts', out: 'cli' },
  // The worker thread's entry must sit beside the bundles that start it (see runtime/worker.ts).
  { in: 'server/src/engine/tasks/worker-entry.ts', out: 'worker' },
  { in: 'server/src/main.ts', out: 'server' },
  // The language server's parsing thread, beside server.js (see workspace/subject-parser.ts).
  { in: 'server/src/workspace/parse-worker-entry.ts', out: 'parse-worker' },
  { in: 'extension/src/extension.ts', out: 'extension' },
].filter((e) => existsSync(e.in));

const ctx = await esbuild.context({
  ...common,
  entryPoints: entries,
  outdir: 'dist',
  banner: { js: '' },
});
// The webview runs in the browser sandbox of the panel.
const webview = await esbuild.context({
  entryPoints: { webview: 'extension/webview/main.ts' },
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  outdir: 'dist',
  sourcemap: true,
  logLevel: 'warning',
});
if (watch) {
  await ctx.watch();
  await webview.watch();
} else {
  await ctx.rebuild();
  await webview.rebuild();
  await ctx.dispose();
  await webview.dispose();
}
