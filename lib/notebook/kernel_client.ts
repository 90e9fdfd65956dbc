/**
 * A minimal Jupyter-protocol client (messaging spec 5.3) for the tslab kernel over zeromq, so notebooks
 * run headless with nothing but `npm install` (no Python). It starts `tslab kernel --config-path …`,
 * signs messages with HMAC-SHA256, sends execute_request on the shell channel and collects outputs
 * from IOPub until the kernel reports idle for that request.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import * as zmq from 'zeromq';

const req = createRequire(__filename);
const DELIM = '<IDS|MSG>';

export interface JupyterMessage {
  header: Record<string, unknown> & { msg_id: string; msg_type: string };
  parent_header: { msg_id?: string };
  metadata: Record<string, unknown>;
  content: Record<string, unknown>;
}
export type IopubHandler = (msgType: string, content: Record<string, unknown>) => void;
export interface ExecuteResult {
  status: 'ok' | 'error' | 'aborted';
  executionCount: number | null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

interface Pending {
  onIopub: IopubHandler;
  reply?: Record<string, unknown>;
  idle: boolean;
  resolve(): void;
  reject(e: Error): void;
}

/** What a kernel prints when one of its ports was taken between our pick and its bind. */
const BIND_FAILURE = /EBUSY|EADDRINUSE|Address already in use|blocked by a bind/;

export interface KernelStartOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  startupTimeoutMs?: number;
  js?: boolean;
  /** Starts tried on fresh ports before giving up (default 3). */
  attempts?: number;
  /**
   * Test hook: code put in front of the kernel's start statement, e.g. `if (…) {…} else` to simulate a kernel
   * that fails to bind.
   */
  preamble?: string;
}

export class KernelClient {
  private readonly session = randomUUID();
  private readonly pending = new Map<string, Pending>();
  private closed = false;
  private stderrTail = '';

  private constructor(
    private readonly proc: ChildProcess,
    private readonly key: string,
    private readonly shell: zmq.Dealer,
    private readonly control: zmq.Dealer,
    private readonly iopub: zmq.Subscriber,
    private readonly connFile: string,
  ) {
    proc.stderr?.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-4000);
    });
    proc.on('exit', (code, signal) =>
      this.failAll(
        new Error(`kernel exited (code ${code}, signal ${signal})${this.stderrTail ? `:\n${this.stderrTail}` : ''}`),
      ),
    );
    void this.readLoop(this.shell, (m) => this.onShell(m));
    void this.readLoop(this.iopub, (m) => this.onIopub(m));
  }

  /**
   * Starts a tslab kernel with `cwd` as its working directory (where the notebook lives). A start that fails
   * (the kernel exits, reports a port it could not bind, or does not answer in time) is retried on fresh ports,
   * up to `attempts` times: the ports are picked free here but bound by the kernel a moment later, and another
   * process can take one in between (seen on CI as zeromq's EBUSY / EADDRINUSE).
   */
  static async start(opts: KernelStartOptions): Promise<KernelClient> {
    const attempts = opts.attempts ?? 3;
    const errors: string[] = [];
    for (let i = 1; ; i++) {
      try {
        return await KernelClient.startOnce(opts);
      } catch (e) {
        errors.push(`attempt ${i}: ${(e as Error).message}`);
        if (i >= attempts)
          throw new Error(`the notebook kernel did not start (${attempts} attempts)\n${errors.join('\n')}`, {
            cause: e,
          });
      }
    }
  }

  private static async startOnce(opts: KernelStartOptions): Promise<KernelClient> {
    const key = randomBytes(16).toString('hex');
    const [shellPort, iopubPort, stdinPort, controlPort, hbPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const conn = {
      transport: 'tcp',
      ip: '127.0.0.1',
      shell_port: shellPort,
      iopub_port: iopubPort,
      stdin_port: stdinPort,
      control_port: controlPort,
      hb_port: hbPort,
      key,
      signature_scheme: 'hmac-sha256',
      kernel_name: opts.js ? 'jslab' : 'tslab',
    };
    const connFile = path.join(os.tmpdir(), `detrlab-kernel-${process.pid}-${randomBytes(4).toString('hex')}.json`);
    fs.writeFileSync(connFile, JSON.stringify(conn), { mode: 0o600 });
    const tslabMain = req.resolve('tslab/dist/main.js');
    const args = [
      '-e',
      `${opts.preamble ?? ''} require(${JSON.stringify(tslabMain)}).startKernel({configPath: ${JSON.stringify(connFile)}, enableFindLocal: false, jsKernel: ${Boolean(opts.js)}})`,
    ];
    const proc = spawn(process.execPath, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout?.resume();
    const addr = (p: number) => `tcp://127.0.0.1:${p}`;
    const shell = new zmq.Dealer({ linger: 0 });
    const control = new zmq.Dealer({ linger: 0 });
    const iopub = new zmq.Subscriber({ linger: 0 });
    shell.connect(addr(shellPort));
    control.connect(addr(controlPort));
    iopub.connect(addr(iopubPort));
    iopub.subscribe();
    const client = new KernelClient(proc, key, shell, control, iopub, connFile);
    try {
      await client.waitReady(opts.startupTimeoutMs ?? 60_000);
    } catch (e) {
      await client.kill();
      throw e;
    }
    return client;
  }

  /** Ends a kernel that never became ready: SIGKILL, sockets closed, connection file removed. */
  private async kill(): Promise<void> {
    const exited = new Promise<void>((r) =>
      this.proc.exitCode !== null || this.proc.signalCode !== null ? r() : this.proc.once('exit', () => r()),
    );
    this.proc.kill('SIGKILL');
    await exited;
    this.closed = true;
    for (const s of [this.shell, this.control, this.iopub]) s.close();
    fs.rmSync(this.connFile, { force: true });
  }

  /** kernel_info handshake, repeated until both the shell reply and an IOPub status arrive (IOPub is subscribed). */
  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.closed) throw new Error(`kernel exited during startup${this.stderrTail ? `:\n${this.stderrTail}` : ''}`);
      if (BIND_FAILURE.test(this.stderrTail)) throw new Error(`kernel could not bind its ports:\n${this.stderrTail}`);
      const ok = await this.request(this.shell, 'kernel_info_request', {}, () => {}, 2000).then(
        () => true,
        () => false,
      );
      if (ok) return;
    }
    throw new Error(
      `kernel did not start within ${timeoutMs / 1000}s${this.stderrTail ? `:\n${this.stderrTail}` : ''}`,
    );
  }

  private sign(parts: string[]): string {
    const h = createHmac('sha256', this.key);
    for (const p of parts) h.update(p);
    return h.digest('hex');
  }

  private async send(sock: zmq.Dealer, msgType: string, content: Record<string, unknown>): Promise<string> {
    const msgId = randomUUID();
    const header = JSON.stringify({
      msg_id: msgId,
      msg_type: msgType,
      username: 'detrlab',
      session: this.session,
      date: new Date().toISOString(),
      version: '5.3',
    });
    const parts = [header, '{}', '{}', JSON.stringify(content)];
    await sock.send([DELIM, this.sign(parts), ...parts]);
    return msgId;
  }

  /** Sends a request and resolves when both its reply and IOPub idle have arrived (or rejects on timeout). */
  private async request(
    sock: zmq.Dealer,
    msgType: string,
    content: Record<string, unknown>,
    onIopub: IopubHandler,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>> {
    let entry!: Pending;
    const done = new Promise<void>((resolve, reject) => {
      entry = { onIopub, idle: false, resolve, reject };
    });
    const msgId = await this.send(sock, msgType, content);
    this.pending.set(msgId, entry);
    let timer: NodeJS.Timeout | undefined;
    const timeout = timeoutMs
      ? new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs / 1000}s`)), timeoutMs);
        })
      : undefined;
    try {
      await (timeout ? Promise.race([done, timeout]) : done);
      return entry.reply!;
    } finally {
      if (timer) clearTimeout(timer);
      this.pending.delete(msgId);
    }
  }

  private parse(frames: Buffer[]): JupyterMessage | undefined {
    const i = frames.findIndex((f) => f.toString() === DELIM);
    if (i < 0 || frames.length < i + 6) return undefined;
    const [sig, header, parent, metadata, content] = frames.slice(i + 1, i + 6).map((f) => f.toString());
    if (this.sign([header, parent, metadata, content]) !== sig) return undefined; // not from our kernel
    return {
      header: JSON.parse(header),
      parent_header: JSON.parse(parent),
      metadata: JSON.parse(metadata),
      content: JSON.parse(content),
    };
  }

  private async readLoop(sock: zmq.Dealer | zmq.Subscriber, on: (m: JupyterMessage) => void): Promise<void> {
    try {
      for await (const frames of sock) {
        const m = this.parse(frames as Buffer[]);
        if (m) on(m);
      }
    } catch {
      /* socket closed */
    }
  }

  private settle(p: Pending): void {
    if (p.reply && p.idle) p.resolve();
  }

  private onShell(m: JupyterMessage): void {
    const p = m.parent_header.msg_id ? this.pending.get(m.parent_header.msg_id) : undefined;
    if (!p) return;
    p.reply = m.content;
    this.settle(p);
  }

  private onIopub(m: JupyterMessage): void {
    const p = m.parent_header.msg_id ? this.pending.get(m.parent_header.msg_id) : undefined;
    if (!p) return;
    if (m.header.msg_type === 'status') {
      if (m.content.execution_state === 'idle') {
        p.idle = true;
        this.settle(p);
      }
      return;
    }
    p.onIopub(m.header.msg_type, m.content);
  }

  private failAll(e: Error): void {
    this.closed = true;
    for (const p of this.pending.values()) p.reject(e);
  }

  /** Executes one cell's code; outputs stream to `onIopub` as they arrive. */
  async execute(code: string, onIopub: IopubHandler, timeoutMs?: number): Promise<ExecuteResult> {
    if (this.closed) throw new Error('kernel is not running');
    const reply = await this.request(
      this.shell,
      'execute_request',
      { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true },
      onIopub,
      timeoutMs,
    );
    return {
      status: reply.status as ExecuteResult['status'],
      executionCount: (reply.execution_count as number | undefined) ?? null,
    };
  }

  /** Interrupts the running cell (tslab handles SIGINT). */
  interrupt(): void {
    this.proc.kill('SIGINT');
  }

  async shutdown(): Promise<void> {
    if (!this.closed) {
      await this.request(this.control, 'shutdown_request', { restart: false }, () => {}, 3000).catch(() => undefined);
    }
    const exited = new Promise<void>((r) =>
      this.proc.exitCode !== null || this.proc.signalCode !== null ? r() : this.proc.once('exit', () => r()),
    );
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
    this.closed = true;
    for (const s of [this.shell, this.control, this.iopub]) s.close();
    fs.rmSync(this.connFile, { force: true });
  }
}
