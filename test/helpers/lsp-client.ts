// A real LSP client over stdio (vscode-languageserver-protocol's JSON-RPC connection) against the built
// server, for tests and the LSP benchmark. Waits by polling received notifications, never by fixed sleeps.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type Diagnostic,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
} from 'vscode-languageserver-protocol/node';
import type { NotificationType, RequestType } from 'vscode-languageserver-protocol';
import {
  ChatDeltaNotification,
  JobStateNotification,
  ValidatedNotification,
} from '../../server/src/protocol';

const SERVER = path.join(__dirname, '..', '..', 'dist', 'server.js');

export class LspClient {
  readonly diagnostics = new Map<string, PublishDiagnosticsParams[]>();
  readonly notifications: { method: string; params: unknown }[] = [];
  readonly stderr: string[] = [];
  /** How the "user" answers a message with buttons (default: dismisses it). */
  answerMessage?: (p: { message: string; actions?: { title: string }[] }) => { title: string } | null;
  private constructor(
    readonly conn: ProtocolConnection,
    readonly proc: ChildProcess,
  ) {}

  static async start(
    rootDir: string,
    settings: Record<string, unknown> = {},
    initializationOptions?: Record<string, unknown>,
  ): Promise<LspClient> {
    const proc = spawn(process.execPath, [SERVER, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const conn = createProtocolConnection(
      new StreamMessageReader(proc.stdout!),
      new StreamMessageWriter(proc.stdin!),
    );
    const client = new LspClient(conn, proc);
    proc.stderr!.on('data', (d: Buffer) => client.stderr.push(d.toString()));
    conn.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      client.diagnostics.set(p.uri, [...(client.diagnostics.get(p.uri) ?? []), p]);
    });
    for (const method of [
      ValidatedNotification.method,
      JobStateNotification.method,
      ChatDeltaNotification.method,
      'window/showMessage',
      'window/logMessage',
      '$/progress',
    ])
      conn.onNotification(method, (params: unknown) => {
        client.notifications.push({ method, params });
      });
    // Server-initiated work-done progress and CodeLens refreshes, as VS Code accepts them.
    conn.onRequest('window/workDoneProgress/create', (params: unknown) => {
      client.notifications.push({ method: 'window/workDoneProgress/create', params });
      return null;
    });
    conn.onRequest(
      'window/showMessageRequest',
      (params: { message: string; actions?: { title: string }[] }) => {
        client.notifications.push({ method: 'window/showMessage', params });
        return client.answerMessage?.(params) ?? null;
      },
    );
    conn.onRequest('workspace/codeLens/refresh', () => {
      client.notifications.push({ method: 'workspace/codeLens/refresh', params: null });
      return null;
    });
    conn.onRequest('workspace/configuration', (p: { items: { section?: string }[] }) =>
      p.items.map(() => settings),
    );
    conn.listen();
    await conn.sendRequest('initialize', {
      processId: process.pid,
      rootUri: pathToFileURL(rootDir).toString(),
      workspaceFolders: [{ uri: pathToFileURL(rootDir).toString(), name: 'ws' }],
      initializationOptions,
      capabilities: {
        workspace: { configuration: true, codeLens: { refreshSupport: true } },
        textDocument: { publishDiagnostics: { versionSupport: true } },
        window: { workDoneProgress: true },
      },
    });
    await conn.sendNotification('initialized', {});
    return client;
  }

  open(file: string, text: string): string {
    const uri = pathToFileURL(file).toString();
    void this.conn.sendNotification('textDocument/didOpen', {
      textDocument: { uri, languageId: 'yollava-subject', version: 1, text },
    });
    return uri;
  }

  /** An incremental change: replace [start, end) (line/character positions) with text. */
  change(
    uri: string,
    version: number,
    range: { start: { line: number; character: number }; end: { line: number; character: number } },
    text: string,
  ): void {
    void this.conn.sendNotification('textDocument/didChange', {
      textDocument: { uri, version },
      contentChanges: [{ range, text }],
    });
  }

  /** A save as the editor reports it: willSave with its reason (1 by hand, 2 after a delay, 3 focus out), then didSave. */
  save(uri: string, reason: 1 | 2 | 3 = 1): void {
    void this.conn.sendNotification('textDocument/willSave', { textDocument: { uri }, reason });
    void this.conn.sendNotification('textDocument/didSave', { textDocument: { uri } });
  }

  /** Notifications (and server requests) received so far: a yollava one by its typed object, or by method. */
  received<P>(type: NotificationType<P>): P[];
  received<T = unknown>(method: string): T[];
  received(type: string | NotificationType<unknown>): unknown[] {
    const method = typeof type === 'string' ? type : type.method;
    return this.notifications.filter((n) => n.method === method).map((n) => n.params);
  }

  /** Polls until `probe` returns something truthy. */
  async until<T>(
    what: string,
    probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
    timeoutMs = 60_000,
  ): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = await probe();
      if (v) return v;
      if (Date.now() > end)
        throw new Error(`timed out waiting for ${what}; stderr: ${this.stderr.join('').slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(uri: string): void {
    void this.conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
  }

  latest(uri: string): Diagnostic[] | undefined {
    const all = this.diagnostics.get(uri);
    return all?.[all.length - 1]?.diagnostics;
  }

  /** Polls until the latest diagnostics for `uri` satisfy `ok` (or the timeout passes). */
  async waitFor(
    uri: string,
    ok: (d: Diagnostic[]) => boolean,
    timeoutMs = 10_000,
    minVersion = 0,
  ): Promise<Diagnostic[]> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const all = this.diagnostics.get(uri);
      const last = all?.[all.length - 1];
      if (last && (last.version ?? 0) >= minVersion && ok(last.diagnostics)) return last.diagnostics;
      if (Date.now() > until)
        throw new Error(
          `timed out waiting for diagnostics on ${uri}; last: ${JSON.stringify(last?.diagnostics.map((d) => (typeof d.message === 'string' ? d.message : d.message.value)))}; stderr: ${this.stderr.join('')}`,
        );
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** A yollava request by its typed object in protocol.ts, or a standard LSP method by name. */
  request<P, R>(type: RequestType<P, R, void>, params: P): Promise<R>;
  request<R>(method: string, params: unknown): Promise<R>;
  request(type: string | RequestType<unknown, unknown, void>, params: unknown): Promise<unknown> {
    return this.conn.sendRequest(typeof type === 'string' ? type : type.method, params);
  }

  async stop(): Promise<void> {
    // Events, not a timer: a server that has died (kill -9 in the fault tests) never answers "shutdown",
    // so its exit ends the wait as well; a live one exits on the "exit" notification.
    const exited =
      this.proc.exitCode !== null || this.proc.signalCode !== null
        ? Promise.resolve()
        : new Promise<void>((r) => this.proc.once('exit', () => r()));
    try {
      await Promise.race([this.conn.sendRequest('shutdown'), exited]);
      await this.conn.sendNotification('exit');
      await exited;
    } catch {
      // the connection is already gone
      this.proc.kill();
    }
    this.conn.dispose();
  }
}
