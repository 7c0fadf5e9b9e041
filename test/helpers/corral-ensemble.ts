// CorralEnsemble: N `corral server` processes on loopback forming one ensemble (zoo.cfg with server.N
// lines, myid files). Kills only the processes it spawned. Test helper.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { corralBin } from "./corral-process.js";
import { fourLetterWord } from "./four-letter-word.js";
import { distinctFreePorts } from "./free-port.js";
import { repoRoot } from "./managed-process.js";
import { waitFor } from "./wait.js";
import { liveChildren } from "./exit-cleanup.js";

export interface EnsembleOptions {
  size?: number;
  /** How many of the `size` members (the last ones) are observers. Default 0. */
  observers?: number;
  tickTime?: number;
  initLimit?: number;
  syncLimit?: number;
  /** More zoo.cfg lines for every member (e.g. snapCount). */
  extraConfig?: Record<string, string>;
  /** Node flags for every member's process (e.g. `--cpu-prof`). */
  nodeFlags?: string[];
}

const outputBytesMax = 256 * 1024;

export class EnsembleMemberProcess {
  readonly host = "127.0.0.1";
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private paused = false;
  output = "";

  constructor(
    readonly id: number,
    readonly clientPort: number,
    readonly dir: string,
    private readonly nodeFlags: readonly string[] = [],
  ) {}

  get connectString(): string {
    return `${this.host}:${this.clientPort}`;
  }

  get configPath(): string {
    return join(this.dir, "zoo.cfg");
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The running process's pid, or undefined when not running. */
  get pid(): number | undefined {
    return this.running ? this.child!.pid : undefined;
  }

  /** The member's dataDir (myid, corral.secret, epochs, version-2/). */
  get dataDir(): string {
    return join(this.dir, "data");
  }

  /** Names of the snapshot files in dataDir/version-2. */
  snapshotFiles(): string[] {
    try {
      return readdirSync(join(this.dataDir, "version-2")).filter((f) => f.startsWith("snapshot."));
    } catch {
      return [];
    }
  }

  /**
   * Empties the (stopped) member's dataDir except myid: no snapshots, no log, no epochs,
   * as a replaced disk would be.
   */
  wipeData(): void {
    if (this.running) throw new Error(`server ${this.id} is running: stop it before wiping its data`);
    for (const name of readdirSync(this.dataDir))
      if (name !== "myid") rmSync(join(this.dataDir, name), { recursive: true, force: true });
  }

  /** SIGSTOP: the process keeps its sockets but does nothing until resume(). */
  pause(): void {
    if (!this.running) throw new Error(`server ${this.id} is not running`);
    this.child!.kill("SIGSTOP");
    this.paused = true;
  }

  /** SIGCONT after pause(). */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.running) this.child!.kill("SIGCONT");
  }

  launch(): void {
    if (this.running) throw new Error(`server ${this.id} is already running`);
    this.output = "";
    const child = spawn(process.execPath, [...this.nodeFlags, corralBin, "server", this.configPath], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, CORRAL_LOG_LEVEL: process.env.CORRAL_LOG_LEVEL ?? "info" },
    });
    this.child = child;
    liveChildren.add(child);
    const append = (b: Buffer): void => {
      this.output += b.toString("utf8");
      if (this.output.length > outputBytesMax) this.output = this.output.slice(-outputBytesMax);
    };
    child.stdout?.on("data", append);
    child.stderr?.on("data", append);
    this.exited = new Promise((resolve) => {
      child.once("exit", () => {
        liveChildren.delete(child);
        if (this.child === child) this.paused = false;
        resolve();
      });
    });
  }

  /** `srvr`'s Mode line (leader/follower/observer), or null while not serving or unreachable. */
  async mode(): Promise<string | null> {
    try {
      const text = await fourLetterWord(this.host, this.clientPort, "srvr", 1_000);
      return /^Mode: (\w+)$/m.exec(text)?.[1] ?? null;
    } catch {
      return null;
    }
  }

  async fourLetterWord(word: string): Promise<string> {
    return fourLetterWord(this.host, this.clientPort, word, 2_000);
  }

  async kill9(): Promise<void> {
    if (!this.running) return;
    this.child!.kill("SIGKILL");
    await this.exited;
  }

  async shutdown(): Promise<void> {
    if (!this.running) return;
    this.resume();
    this.child!.kill("SIGTERM");
    const t = setTimeout(() => this.child?.kill("SIGKILL"), 5_000);
    await this.exited;
    clearTimeout(t);
  }
}

/** A member could not bind a port found free a moment before. */
class PortTakenError extends Error {}

export class CorralEnsemble {
  private constructor(
    readonly baseDir: string,
    readonly members: EnsembleMemberProcess[],
  ) {}

  /**
   * Writes every member's zoo.cfg and myid, starts them all, and waits for a leader and followers. A port
   * taken between being found free and being bound (by another test's process) means another try on new ports.
   */
  static async start(options: EnsembleOptions = {}): Promise<CorralEnsemble> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await CorralEnsemble.startOnce(options);
      } catch (e) {
        if (!(e instanceof PortTakenError) || attempt === 3) throw e;
      }
    }
  }

  private static async startOnce(options: EnsembleOptions): Promise<CorralEnsemble> {
    const size = options.size ?? 3;
    const baseDir = mkdtempSync(join(tmpdir(), "corral-ensemble-"));
    const free = await distinctFreePorts(size * 3);
    const ports = Array.from({ length: size }, (_, i) => ({
      client: free[3 * i]!,
      quorum: free[3 * i + 1]!,
      election: free[3 * i + 2]!,
    }));
    const firstObserver = size - (options.observers ?? 0);
    const serverLines = ports.map(
      (p, i) =>
        `server.${i + 1}=127.0.0.1:${p.quorum}:${p.election}${i >= firstObserver ? ":observer" : ""};127.0.0.1:${p.client}`,
    );
    const members: EnsembleMemberProcess[] = [];
    for (let i = 0; i < size; i++) {
      const dir = join(baseDir, `s${i + 1}`);
      const dataDir = join(dir, "data");
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(join(dataDir, "myid"), `${i + 1}\n`);
      const cfg = [
        `tickTime=${options.tickTime ?? 200}`,
        `initLimit=${options.initLimit ?? 10}`,
        `syncLimit=${options.syncLimit ?? 5}`,
        `dataDir=${dataDir}`,
        `clientPort=${ports[i]!.client}`,
        "clientPortAddress=127.0.0.1",
        "admin.enableServer=false",
        "4lw.commands.whitelist=*",
        ...Object.entries(options.extraConfig ?? {}).map(([k, v]) => `${k}=${v}`),
        ...serverLines,
      ];
      writeFileSync(join(dir, "zoo.cfg"), cfg.join("\n") + "\n");
      members.push(new EnsembleMemberProcess(i + 1, ports[i]!.client, dir, options.nodeFlags));
    }
    const ensemble = new CorralEnsemble(baseDir, members);
    for (const m of members) m.launch();
    try {
      let exited: EnsembleMemberProcess | undefined;
      await waitFor(
        async () => {
          exited = members.find((m) => !m.running);
          return exited !== undefined || (await ensemble.quorumLeader(members)) !== undefined;
        },
        { timeoutMs: 30_000, intervalMs: 50, message: `one leader and ${size - 1} followers` },
      );
      if (exited !== undefined) {
        const why = `server ${exited.id} exited while the ensemble started`;
        throw exited.output.includes("EADDRINUSE") ? new PortTakenError(why) : new Error(why);
      }
    } catch (e) {
      const logs = members.map((m) => `--- server ${m.id} ---\n${m.output.slice(-3000)}`).join("\n");
      await ensemble.stop();
      const message = `${(e as Error).message}\n${logs}`;
      throw e instanceof PortTakenError ? new PortTakenError(message) : new Error(message);
    }
    return ensemble;
  }

  /** Connect string naming every member. */
  get connectString(): string {
    return this.members.map((m) => m.connectString).join(",");
  }

  member(id: number): EnsembleMemberProcess {
    const m = this.members.find((x) => x.id === id);
    if (m === undefined) throw new Error(`no server ${id}`);
    return m;
  }

  /** Waits until exactly one of `among` says leader and the rest of them follower; returns the leader. */
  async waitForQuorum(
    among: EnsembleMemberProcess[] = this.members.filter((m) => m.running),
    timeoutMs = 20_000,
  ): Promise<EnsembleMemberProcess> {
    let leader: EnsembleMemberProcess | undefined;
    await waitFor(async () => (leader = await this.quorumLeader(among)) !== undefined, {
      timeoutMs,
      intervalMs: 50,
      message: `one leader and ${among.length - 1} followers`,
    });
    return leader!;
  }

  /** The leader when exactly one of `among` says leader and the rest of them follower (or observer). */
  private async quorumLeader(among: EnsembleMemberProcess[]): Promise<EnsembleMemberProcess | undefined> {
    const modes = await Promise.all(among.map((m) => m.mode()));
    const leaders = among.filter((_, i) => modes[i] === "leader");
    const followers = modes.filter((m) => m === "follower" || m === "observer").length;
    return leaders.length === 1 && followers === among.length - 1 ? leaders[0] : undefined;
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => m.shutdown()));
    rmSync(this.baseDir, { recursive: true, force: true });
  }
}
