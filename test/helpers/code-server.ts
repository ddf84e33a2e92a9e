// A fresh code-server (a real VS Code workbench) with the packaged extension installed, driven by
// Debian's chromium through playwright-core. Recipe: the team's docs/vscode-e2e.md. Everything waits by
// polling for a condition; the server runs in its own process group and is killed as a group.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';

const root = path.join(__dirname, '..', '..');

export interface Workbench {
  port: number;
  workspace: string;
  /** VS Code's user-data folder: logs/SESSION/exthostN/EXTENSION/CHANNEL.log hold the Output channels. */
  userData: string;
  page: Page;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeoutMs = 60_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v as T;
    } catch {
      // not yet
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function setupTools(): { tools: string; vsix: string } {
  const setup = spawnSync('bash', [path.join(root, 'scripts', 'e2e-setup.sh')], { encoding: 'utf8' });
  if (setup.status !== 0) throw new Error(`e2e setup failed:\n${setup.stderr.slice(-2000)}`);
  const tools = setup.stdout.trim().split('\n').pop()!;
  const pack = spawnSync(process.execPath, [path.join(root, 'scripts', 'package-vsix.mjs')], {
    encoding: 'utf8',
    cwd: root,
  });
  if (pack.status !== 0)
    throw new Error(`packaging the VSIX failed:\n${pack.stdout.slice(-2000)}${pack.stderr.slice(-2000)}`);
  return { tools, vsix: pack.stdout.trim().split('\n').pop()! };
}

export async function startWorkbench(tools: string, vsix: string, sampleDir: string): Promise<Workbench> {
  const scratch = mkdtempSync(path.join(tmpdir(), 'yollava-e2e-'));
  // playwright gives chromium a fresh profile of its own.
  const [home, userData, extDir, workspace] = ['home', 'user-data', 'extensions', 'workspace'].map((d) =>
    path.join(scratch, d),
  ) as [string, string, string, string];
  for (const d of [home, userData, extDir]) mkdirSync(d, { recursive: true });
  cpSync(sampleDir, workspace, { recursive: true });
  mkdirSync(path.join(userData, 'User'), { recursive: true });
  writeFileSync(
    path.join(userData, 'User', 'settings.json'),
    JSON.stringify({
      'workbench.startupEditor': 'none',
      'security.workspace.trust.enabled': false,
      'editor.quickSuggestions': { other: false },
      // Typing ':' would open completion, and a late popup takes the Enter a test types next.
      'editor.suggestOnTriggerCharacters': false,
      // As vscode.dev and most web VS Code setups: the file saves itself a second after the last keystroke.
      'files.autoSave': 'afterDelay',
      'files.autoSaveDelay': 1000,
    }),
  );
  const codeServer = path.join(tools, 'node_modules', '.bin', 'code-server');
  const env = { ...process.env, HOME: home, EXTENSIONS_GALLERY: '{}' };
  const common = ['--user-data-dir', userData, '--extensions-dir', extDir];
  const install = spawnSync(codeServer, [...common, '--install-extension', vsix], { env, encoding: 'utf8' });
  if (install.status !== 0) throw new Error(`installing the VSIX failed: ${install.stderr}${install.stdout}`);
  const port = await freePort();
  const server: ChildProcess = spawn(
    codeServer,
    [
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--auth',
      'none',
      ...common,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      workspace,
    ],
    { env, detached: true, stdio: 'ignore' },
  );
  await waitUntil(
    'code-server to answer',
    async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok,
    60_000,
  );
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
  await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
  return {
    port,
    workspace,
    userData,
    page,
    async close() {
      await browser.close().catch(() => undefined);
      try {
        process.kill(-server.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    },
  };
}
