// startZooKeeperEnsemble(): an N-node (default 3) Apache ZooKeeper 3.8 ensemble on 127.0.0.1, one QuorumPeerMain
// JVM per server, each with its own client, quorum and election port, zoo.cfg and myid. Test helper: kills only
// the processes it spawned (by handle, never by name) and removes only the temp dir it made.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fourLetterWord } from "./four-letter-word.js";
import { distinctFreePorts } from "./free-port.js";
import { repoRoot } from "./managed-process.js";
import { waitFor } from "./wait.js";
import { zookeeperClasspath, zookeeperUnavailableReason } from "./zookeeper-process.js";
import { dirsToRemove, liveChildren } from "./exit-cleanup.js";

export interface EnsembleOptions {
  /** Number of voting servers. Default 3. */
  size?: number;
  /** zoo.cfg tickTime. Default 500 ms: elections and session checks stay fast. */
  tickTime?: number;
  /** Ticks a follower may take to connect and sync to a leader. Default 10. */
  initLimit?: number;
  /** Ticks a follower may lag behind the leader. Default 4. */
  syncLimit?: number;
  minSessionTimeout?: number;
  maxSessionTimeout?: number;
  /**
   * fsync the txn log before acking. Default false: kill9() of a process keeps what it wrote in the page
   * cache, so only a machine crash could lose it, and the ensemble starts and commits faster.
   */
  forceSync?: boolean;
  /** More zoo.cfg lines, for every server. */
  extraConfig?: Record<string, string>;
  /** How long start() and restart() wait for servers to serve as leader/follower. Default 60 s. */
  startTimeoutMs?: number;
  /** ContainerManager's period (-Dznode.container.checkIntervalMs); ZooKeeper's default when absent. */
  containerCheckIntervalMs?: number;
}

/** What `srvr` says a server is doing; undefined while it is not serving (electing, starting, dead). */
export type ZooKeeperMode = "leader" | "follower" | "observer" | "standalone";

const host = "127.0.0.1";
const outputCharsMax = 256 * 1024;
const stopGraceMs = 5_000;

/** Why an ensemble cannot run here (no java, a jar missing), or undefined when it can. */
export function zookeeperEnsembleUnavailableReason(): string | undefined {
  return zookeeperUnavailableReason();
}

/** Asks `srvr` and returns the Mode line, or undefined when the server is not serving or not answering. */
export async function zookeeperMode(port: number, timeoutMs = 1_000): Promise<ZooKeeperMode | undefined> {
  let reply: string;
  try {
    reply = await fourLetterWord(host, port, "srvr", timeoutMs);
  } catch {
    return undefined;
  }
  const mode = /^Mode: (leader|follower|observer|standalone)\s*$/m.exec(reply)?.[1];
  return mode as ZooKeeperMode | undefined;
}

interface Ports {
  client: number;
  quorum: number;
  election: number;
}

/** One ensemble member: its ports, its dir, and the JVM currently running it (if any). */
export class EnsembleServer {
  readonly host = host;
  readonly connectString: string;
  readonly dataDir: string;
  readonly configPath: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private exitCode: number | null = null;
  private exitSignal: NodeJS.Signals | null = null;
  private stdoutText = "";
  private stderrText = "";

  constructor(
    /** The server id: `server.<id>` in zoo.cfg and the myid file. */
    readonly id: number,
    private readonly ports: Ports,
    readonly baseDir: string,
    private readonly startTimeoutMs: number,
    private readonly jvmProps: readonly string[] = [],
  ) {
    this.connectString = `${host}:${ports.client}`;
    this.dataDir = join(baseDir, "data");
    this.configPath = join(baseDir, "zoo.cfg");
  }

  /** The client port. */
  get port(): number {
    return this.ports.client;
  }
  get quorumPort(): number {
    return this.ports.quorum;
  }
  get electionPort(): number {
    return this.ports.election;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.exitCode === null && this.exitSignal === null;
  }

  /** What the current (or last) JVM wrote, the last 256 KiB of each stream. */
  get stdout(): string {
    return this.stdoutText;
  }
  get stderr(): string {
    return this.stderrText;
  }

  get exitStatus(): { code: number | null; signal: NodeJS.Signals | null } {
    return { code: this.exitCode, signal: this.exitSignal };
  }

  /** The `server.N=` line every member's zoo.cfg carries for this server. */
  get serverLine(): string {
    return `server.${this.id}=${host}:${this.ports.quorum}:${this.ports.election};${host}:${this.ports.client}`;
  }

  /** Resolves when the current JVM exits. */
  waitForExit(): Promise<void> {
    return this.exited;
  }

  /** Spawns the JVM (without waiting for it to serve). */
  launch(): void {
    if (this.running) throw new Error(`zookeeper server ${this.id} (pid ${this.pid}) is already running`);
    this.stdoutText = "";
    this.stderrText = "";
    this.exitCode = null;
    this.exitSignal = null;
    const child = spawn(
      "java",
      [
        "-Xmx256m",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "-Dzookeeper.admin.enableServer=false",
        "-Dzookeeper.extendedTypesEnabled=true",
        "-Dzookeeper.cnxTimeout=1000",
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
        ...this.jvmProps,
        "-cp",
        zookeeperClasspath,
        "org.apache.zookeeper.server.quorum.QuorumPeerMain",
        this.configPath,
      ],
      { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] },
    );
    this.child = child;
    liveChildren.add(child);
    const tail = (text: string, chunk: Buffer): string => {
      const joined = text + chunk.toString("utf8");
      return joined.length > outputCharsMax ? joined.slice(joined.length - outputCharsMax) : joined;
    };
    child.stdout?.on("data", (chunk: Buffer) => (this.stdoutText = tail(this.stdoutText, chunk)));
    child.stderr?.on("data", (chunk: Buffer) => (this.stderrText = tail(this.stderrText, chunk)));
    this.exited = new Promise((resolveExit) => {
      const done = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (this.child === child) {
          this.exitCode = code;
          this.exitSignal = signal;
        }
        liveChildren.delete(child);
        resolveExit();
      };
      child.once("exit", done);
      child.once("error", (err) => {
        this.stderrText += `spawn error: ${err.message}\n`;
        done(127, null);
      });
    });
  }

  /** `srvr`'s Mode: leader, follower, ...; undefined while electing, starting or dead. */
  async mode(): Promise<ZooKeeperMode | undefined> {
    if (!this.running) return undefined;
    return zookeeperMode(this.ports.client);
  }

  /** The `cons` four-letter word: one line per client connection, with its session id (sid=0x...). */
  async cons(): Promise<string> {
    return fourLetterWord(host, this.ports.client, "cons", 2_000);
  }

  /** Whether a connection of session `sessionId` is open on this server (per `cons`). */
  async hasSession(sessionId: bigint): Promise<boolean> {
    if (!this.running) return false;
    try {
      return (await this.cons()).includes(`sid=0x${sessionId.toString(16)},`);
    } catch {
      return false;
    }
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    if (!this.running || this.child === undefined) return;
    this.child.kill(signal);
    await this.exited;
  }

  /** SIGKILL: no shutdown hooks. The data dir stays for restart(). */
  async kill9(): Promise<void> {
    await this.signal("SIGKILL");
  }

  /** SIGTERM, then SIGKILL after a grace period. The data dir stays for restart(). */
  async shutdown(): Promise<void> {
    if (!this.running || this.child === undefined) return;
    const child = this.child;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), stopGraceMs);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Stops the JVM if it runs, starts a new one on the same ports, config and data dir, and waits until it
   * serves as leader or follower (it has joined a quorum). Throws with the JVM's output tail if it does not.
   */
  async restart(timeoutMs = this.startTimeoutMs): Promise<void> {
    await this.shutdown();
    this.launch();
    await this.waitUntilServing(timeoutMs);
  }

  /** Waits until `srvr` reports leader or follower; fails fast (with the output tail) if the JVM exits. */
  async waitUntilServing(timeoutMs = this.startTimeoutMs): Promise<ZooKeeperMode> {
    let mode: ZooKeeperMode | undefined;
    try {
      await waitFor(
        async () => {
          if (!this.running) return true;
          mode = await this.mode();
          return mode === "leader" || mode === "follower";
        },
        {
          timeoutMs,
          intervalMs: 100,
          message: `zookeeper server ${this.id} on ${this.connectString} to serve`,
        },
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${this.outputTail()}`);
    }
    if (!this.running) {
      await this.exited;
      const { code, signal } = this.exitStatus;
      throw new Error(
        `zookeeper server ${this.id} exited (code ${code}, signal ${signal}) before serving\n${this.outputTail()}`,
      );
    }
    return mode!;
  }

  /** The last few KiB of the JVM's output, for error messages. */
  outputTail(chars = 4_000): string {
    return `--- server ${this.id} stderr tail ---\n${this.stderr.slice(-chars)}\n--- server ${this.id} stdout tail ---\n${this.stdout.slice(-chars)}`;
  }
}

/** A running ensemble; `stop()` kills every JVM it started and removes its temp dir. */
export class ZooKeeperEnsemble {
  /** "127.0.0.1:p1,127.0.0.1:p2,..." over every member. */
  readonly connectString: string;
  private stopped = false;

  constructor(
    readonly servers: readonly EnsembleServer[],
    readonly baseDir: string,
    private readonly startTimeoutMs: number,
  ) {
    this.connectString = connectStringOf(servers);
  }

  /** The server with id `id` (1-based, as in zoo.cfg). */
  server(id: number): EnsembleServer {
    const s = this.servers.find((x) => x.id === id);
    if (s === undefined) throw new Error(`no server ${id} in this ensemble`);
    return s;
  }

  /** A connect string over some of the members, in the order given. */
  connectStringOf(servers: readonly EnsembleServer[]): string {
    return connectStringOf(servers);
  }

  /** Every member's `srvr` Mode (undefined for one not serving), in id order. */
  async modes(): Promise<Array<ZooKeeperMode | undefined>> {
    return Promise.all(this.servers.map((s) => s.mode()));
  }

  /**
   * The leader, per `srvr`: waits (up to timeoutMs) until exactly one running member reports "leader" and
   * every other running member reports "follower", so the answer is not a leader about to be replaced.
   */
  async leader(timeoutMs = this.startTimeoutMs): Promise<EnsembleServer> {
    let leader: EnsembleServer | undefined;
    let modes: Array<ZooKeeperMode | undefined> = [];
    try {
      await waitFor(
        async () => {
          const running = this.servers.filter((s) => s.running);
          modes = await Promise.all(running.map((s) => s.mode()));
          const leaders = running.filter((_, i) => modes[i] === "leader");
          leader =
            leaders.length === 1 && modes.every((m) => m === "leader" || m === "follower")
              ? leaders[0]
              : undefined;
          return leader !== undefined;
        },
        { timeoutMs, intervalMs: 100, message: "one leader and only followers besides it" },
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}; last modes ${JSON.stringify(modes)}`);
    }
    return leader!;
  }

  /** The followers among the running members (after leader() has settled). */
  async followers(timeoutMs = this.startTimeoutMs): Promise<EnsembleServer[]> {
    const leader = await this.leader(timeoutMs);
    return this.servers.filter((s) => s.running && s !== leader);
  }

  /** The member holding a connection of session `sessionId` (per `cons`), or undefined. */
  async serverWithSession(sessionId: bigint): Promise<EnsembleServer | undefined> {
    const has = await Promise.all(this.servers.map((s) => s.hasSession(sessionId)));
    return this.servers.find((_, i) => has[i]);
  }

  /** Restarts every member that is not running and waits for a settled leader. */
  async restartStopped(timeoutMs = this.startTimeoutMs): Promise<void> {
    await Promise.all(this.servers.filter((s) => !s.running).map((s) => s.restart(timeoutMs)));
    await this.leader(timeoutMs);
  }

  /** Kills every JVM (SIGTERM, then SIGKILL) and removes the temp dir. Safe to call twice. */
  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.shutdown()));
    if (!this.stopped) {
      rmSync(this.baseDir, { recursive: true, force: true });
      dirsToRemove.delete(this.baseDir);
      this.stopped = true;
    }
  }
}

function connectStringOf(servers: readonly EnsembleServer[]): string {
  return servers.map((s) => s.connectString).join(",");
}

function zooCfg(options: EnsembleOptions, server: EnsembleServer, all: readonly EnsembleServer[]): string {
  const lines: Record<string, string> = {
    tickTime: String(options.tickTime ?? 500),
    initLimit: String(options.initLimit ?? 10),
    syncLimit: String(options.syncLimit ?? 4),
    dataDir: server.dataDir,
    clientPort: String(server.port),
    clientPortAddress: host,
    "4lw.commands.whitelist": "*",
    "admin.enableServer": "false",
    extendedTypesEnabled: "true",
    forceSync: options.forceSync === true ? "yes" : "no",
    reconfigEnabled: "false",
    standaloneEnabled: "false",
  };
  if (options.minSessionTimeout !== undefined) lines.minSessionTimeout = String(options.minSessionTimeout);
  if (options.maxSessionTimeout !== undefined) lines.maxSessionTimeout = String(options.maxSessionTimeout);
  Object.assign(lines, options.extraConfig ?? {});
  for (const s of all) lines[`server.${s.id}`] = s.serverLine.slice(`server.${s.id}=`.length);
  return (
    Object.entries(lines)
      .map(([k, v]) => `${k}=${v}`)
      .join("\n") + "\n"
  );
}

/**
 * Writes each member's zoo.cfg and myid in a fresh temp dir, spawns every JVM, and resolves once each member
 * answers `srvr` with Mode leader or follower (and exactly one is leader). On failure it kills what it started.
 */
export async function startZooKeeperEnsemble(options: EnsembleOptions = {}): Promise<ZooKeeperEnsemble> {
  const size = options.size ?? 3;
  if (!Number.isInteger(size) || size < 1 || size > 254) throw new Error(`bad ensemble size ${size}`);
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const ports = await distinctFreePorts(size * 3);
  const baseDir = mkdtempSync(join(tmpdir(), "corral-zk-ensemble-"));
  dirsToRemove.add(baseDir);
  const servers = Array.from(
    { length: size },
    (_, i) =>
      new EnsembleServer(
        i + 1,
        { client: ports[3 * i]!, quorum: ports[3 * i + 1]!, election: ports[3 * i + 2]! },
        join(baseDir, `server${i + 1}`),
        startTimeoutMs,
        options.containerCheckIntervalMs === undefined
          ? []
          : [`-Dznode.container.checkIntervalMs=${options.containerCheckIntervalMs}`],
      ),
  );
  const ensemble = new ZooKeeperEnsemble(servers, baseDir, startTimeoutMs);
  try {
    for (const s of servers) {
      mkdirSync(s.dataDir, { recursive: true });
      writeFileSync(join(s.dataDir, "myid"), `${s.id}\n`);
      writeFileSync(s.configPath, zooCfg(options, s, servers));
    }
    for (const s of servers) s.launch();
    await Promise.all(servers.map((s) => s.waitUntilServing(startTimeoutMs)));
    await ensemble.leader(startTimeoutMs);
  } catch (err) {
    await ensemble.stop();
    throw err;
  }
  return ensemble;
}
