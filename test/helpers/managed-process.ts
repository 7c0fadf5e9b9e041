// ManagedServer: one server process (Apache ZooKeeper or Corral) on a loopback port with its own temp dir.
// Kills only the process it spawned (SIGTERM, then SIGKILL), never by name. Test helper.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./free-port.js";
import { isServing } from "./four-letter-word.js";
import { waitFor } from "./wait.js";
import { dirsToRemove, liveChildren } from "./exit-cleanup.js";

/** The repository root: this file compiles to dist/test/helpers/, three levels down. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export type ServerKind = "corral" | "zookeeper";

export interface ServerOptions {
  /** zoo.cfg tickTime; session timeouts are negotiated into [2, 20] ticks. Default 2000. */
  tickTime?: number;
  minSessionTimeout?: number;
  maxSessionTimeout?: number;
  /** "super:<base64 sha1>" as DigestAuthenticationProvider.generateDigest prints it. */
  superDigest?: string;
  /** fsync the txn log before acknowledging (ZooKeeper's forceSync). Default true. */
  forceSync?: boolean;
  /** ZooKeeper's ContainerManager period; long values keep container/TTL reaping out of a differential run. */
  containerCheckIntervalMs?: number;
  /** More zoo.cfg lines. */
  extraConfig?: Record<string, string>;
  /** How long to wait for `ruok` → `imok`. Default 30 s (a cold JVM is slow on a busy CI box). */
  startTimeoutMs?: number;
}

export interface CommandSpec {
  command: string;
  args: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
}

/** The server did not come up: it exited (exitCode/signal set) or never answered ruok. */
export class ServerStartError extends Error {
  override name = "ServerStartError";
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(message);
  }
}

const outputBytesMax = 256 * 1024;
const stopGraceMs = 5_000;

class OutputTail {
  private text = "";
  append(chunk: Buffer): void {
    this.text += chunk.toString("utf8");
    if (this.text.length > outputBytesMax) this.text = this.text.slice(this.text.length - outputBytesMax);
  }
  toString(): string {
    return this.text;
  }
}

export function zooCfg(options: ServerOptions, dataDir: string, port: number): string {
  const lines: Record<string, string> = {
    tickTime: String(options.tickTime ?? 2000),
    initLimit: "10",
    syncLimit: "5",
    dataDir,
    clientPort: String(port),
    clientPortAddress: "127.0.0.1",
    "4lw.commands.whitelist": "*",
    "admin.enableServer": "false",
    extendedTypesEnabled: "true",
    forceSync: options.forceSync === false ? "no" : "yes",
  };
  if (options.minSessionTimeout !== undefined) lines.minSessionTimeout = String(options.minSessionTimeout);
  if (options.maxSessionTimeout !== undefined) lines.maxSessionTimeout = String(options.maxSessionTimeout);
  if (options.superDigest !== undefined)
    lines["DigestAuthenticationProvider.superDigest"] = options.superDigest;
  if (options.containerCheckIntervalMs !== undefined)
    lines["znode.container.checkIntervalMs"] = String(options.containerCheckIntervalMs);
  Object.assign(lines, options.extraConfig ?? {});
  return (
    Object.entries(lines)
      .map(([k, v]) => `${k}=${v}`)
      .join("\n") + "\n"
  );
}

export class ManagedServer {
  readonly host = "127.0.0.1";
  readonly connectString: string;
  readonly dataDir: string;
  readonly configPath: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private exitCode: number | null = null;
  private exitSignal: NodeJS.Signals | null = null;
  private stdoutTail = new OutputTail();
  private stderrTail = new OutputTail();
  private removed = false;

  private constructor(
    readonly kind: ServerKind,
    readonly port: number,
    readonly baseDir: string,
    private readonly commandFor: (configPath: string) => CommandSpec,
    private readonly startTimeoutMs: number,
  ) {
    this.connectString = `${this.host}:${port}`;
    this.dataDir = join(baseDir, "data");
    this.configPath = join(baseDir, "zoo.cfg");
  }

  /** Makes a temp dir, writes zoo.cfg, spawns the server and waits for `ruok` → `imok`. */
  static async start(
    kind: ServerKind,
    options: ServerOptions,
    commandFor: (configPath: string) => CommandSpec,
  ): Promise<ManagedServer> {
    const port = await freePort();
    const baseDir = mkdtempSync(join(tmpdir(), `corral-${kind}-`));
    dirsToRemove.add(baseDir);
    const server = new ManagedServer(kind, port, baseDir, commandFor, options.startTimeoutMs ?? 30_000);
    writeFileSync(server.configPath, zooCfg(options, server.dataDir, port));
    try {
      await server.launch();
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.exitCode === null && this.exitSignal === null;
  }

  /** Everything the current (or last) process wrote, bounded to the last 256 KiB of each stream. */
  get stdout(): string {
    return this.stdoutTail.toString();
  }
  get stderr(): string {
    return this.stderrTail.toString();
  }

  private async launch(): Promise<void> {
    if (this.removed) throw new Error(`${this.kind} server dir ${this.baseDir} was removed`);
    if (this.running) throw new Error(`${this.kind} server pid ${this.pid} is already running`);
    const spec = this.commandFor(this.configPath);
    this.stdoutTail = new OutputTail();
    this.stderrTail = new OutputTail();
    this.exitCode = null;
    this.exitSignal = null;
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    liveChildren.add(child);
    child.stdout?.on("data", (chunk: Buffer) => this.stdoutTail.append(chunk));
    child.stderr?.on("data", (chunk: Buffer) => this.stderrTail.append(chunk));
    this.exited = new Promise((resolveExit) => {
      const done = (code: number | null, signal: NodeJS.Signals | null): void => {
        this.exitCode = code;
        this.exitSignal = signal;
        liveChildren.delete(child);
        resolveExit();
      };
      child.once("exit", done);
      child.once("error", (err) => {
        this.stderrTail.append(Buffer.from(`spawn error: ${err.message}\n`));
        done(127, null);
      });
    });
    try {
      await waitFor(async () => !this.running || (await isServing(this.host, this.port)), {
        timeoutMs: this.startTimeoutMs,
        intervalMs: 100,
        message: `${this.kind} on ${this.connectString} to answer ruok with imok and serve`,
      });
    } catch (err) {
      await this.kill("SIGKILL");
      throw this.startError(`${this.kind} did not answer ruok: ${(err as Error).message}`);
    }
    if (!this.running) {
      await this.exited;
      throw this.startError(`${this.kind} exited before answering ruok`);
    }
  }

  private startError(message: string): ServerStartError {
    const detail = `${message} (exit code ${this.exitCode}, signal ${this.exitSignal})\n--- stderr tail ---\n${this.stderr.slice(-4000)}\n--- stdout tail ---\n${this.stdout.slice(-4000)}`;
    return new ServerStartError(detail, this.exitCode, this.exitSignal, this.stdout, this.stderr);
  }

  private async kill(signal: NodeJS.Signals): Promise<void> {
    if (!this.running || this.child === undefined) return;
    this.child.kill(signal);
    await this.exited;
  }

  /** SIGKILL: no shutdown hooks, no final fsync. The data dir stays for restart(). */
  async kill9(): Promise<void> {
    await this.kill("SIGKILL");
  }

  /** SIGTERM, then SIGKILL after a grace period. The data dir stays for restart(). */
  async shutdown(): Promise<void> {
    if (!this.running || this.child === undefined) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child?.kill("SIGKILL"), stopGraceMs);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Starts a new process on the same port, config and data dir; throws ServerStartError if it will not serve. */
  async restart(): Promise<void> {
    await this.shutdown();
    await this.launch();
  }

  /** Stops the process and removes the temp dir. Safe to call twice. */
  async stop(): Promise<void> {
    await this.shutdown();
    if (!this.removed) {
      rmSync(this.baseDir, { recursive: true, force: true });
      dirsToRemove.delete(this.baseDir);
      this.removed = true;
    }
  }

  /** Exit code and signal of the last process, once it has exited. */
  get exitStatus(): { code: number | null; signal: NodeJS.Signals | null } {
    return { code: this.exitCode, signal: this.exitSignal };
  }

  /** Resolves when the current process exits. */
  waitForExit(): Promise<void> {
    return this.exited;
  }
}
