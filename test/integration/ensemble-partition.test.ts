// A network partition of a three-server Corral ensemble, in network namespaces this test creates itself.
//
//   ns s1, s2, s3: one `corral server` each, with two veths: q0 (quorum traffic, 10.201.1.N) and c0 (client
//   traffic, 10.201.2.N), both into
//   ns br: bridges brq and brc joining them; brc also holds 10.201.2.254 for the clients, which run in a
//   node "agent" (this file run with --netns-agent) inside ns br and take JSON-line requests on stdin.
//
// Isolating the leader sets its q0 down: it loses its peers but its clients still reach it. The two others
// must elect a leader and take writes; a write sent to the old leader must not succeed, and must be gone
// once the partition heals and the three converge with every acknowledged write. A sync sent to the old
// leader must not succeed either: it cannot confirm its leadership with a quorum (ZooKeeper's would answer
// at once, and a read after it could miss the majority's writes).
//
// Needs root and iproute2's `ip`. Skipped (with the reason) when either is missing, except with CI=true,
// where it fails. Only ever runs `ip` against the namespaces it created; never touches the host's interfaces.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { NodeExistsError, ZooKeeperClient } from "../../src/client/index.js";
import { corralBin } from "../helpers/corral-process.js";
import { fourLetterWord } from "../helpers/four-letter-word.js";
import { repoRoot } from "../helpers/managed-process.js";
import { waitFor, withTimeout } from "../helpers/wait.js";

const inCi = process.env.CI === "true";
const tickTime = 200;
const syncLimit = 5;
const sessionTimeoutMs = 4_000;
const clientPort = 2181;
const quorumAddr = (id: number): string => `10.201.1.${id}`;
const clientAddr = (id: number): string => `10.201.2.${id}`;
const loadParent = "/load";

// ---------------------------------------------------------------------------------------------------------
// The agent: runs inside the bridge namespace, holds the client sessions, answers one JSON line per request.

type AgentRequest =
  | { id: number; op: "mode"; host: string }
  | { id: number; op: "open"; name: string; connect: string }
  | { id: number; op: "create"; name: string; path: string; timeoutMs: number }
  | { id: number; op: "sync"; name: string; path: string; timeoutMs: number }
  | { id: number; op: "close"; name: string }
  | { id: number; op: "children"; host: string; parent: string }
  | { id: number; op: "exists"; host: string; path: string }
  | { id: number; op: "startLoad"; connect: string; writers: number }
  | { id: number; op: "loadStatus" }
  | { id: number; op: "stopLoad" };

/** A request without its id (distributes over the union). */
type AgentCall = AgentRequest extends infer R ? (R extends unknown ? Omit<R, "id"> : never) : never;

async function runAgent(): Promise<void> {
  const sessions = new Map<string, ZooKeeperClient>();
  const acked: string[] = [];
  let failures = 0;
  let stopping = false;
  let loops: Promise<void>[] = [];
  let loadClients: ZooKeeperClient[] = [];
  const connect = (cs: string): Promise<ZooKeeperClient> =>
    ZooKeeperClient.connect(cs, { sessionTimeoutMs, connectTimeoutMs: 15_000 });
  const onHost = async <T>(host: string, f: (zk: ZooKeeperClient) => Promise<T>): Promise<T> => {
    const zk = await connect(`${host}:${clientPort}`);
    try {
      return await f(zk);
    } finally {
      await zk.close().catch(() => undefined);
    }
  };
  const writer = async (zk: ZooKeeperClient, prefix: string): Promise<void> => {
    while (!stopping) {
      try {
        acked.push(await zk.create(`${loadParent}/${prefix}`, prefix, { mode: "persistent-sequential" }));
      } catch {
        failures++;
        await waitFor(() => stopping || zk.state === "connected", { timeoutMs: 60_000, intervalMs: 20 });
      }
    }
  };
  const handle = async (r: AgentRequest): Promise<unknown> => {
    switch (r.op) {
      case "mode":
        try {
          const text = await fourLetterWord(r.host, clientPort, "srvr", 1_000);
          return /^Mode: (\w+)$/m.exec(text)?.[1] ?? null;
        } catch {
          return null;
        }
      case "open":
        sessions.set(r.name, await connect(r.connect));
        return null;
      case "create": {
        const zk = sessions.get(r.name)!;
        const outcome = zk.create(r.path, "x").then(
          () => "succeeded",
          (e: Error) => `failed: ${e.name}`,
        );
        return withTimeout(outcome, r.timeoutMs, "create").catch(() => `no reply in ${r.timeoutMs} ms`);
      }
      case "sync": {
        const zk = sessions.get(r.name)!;
        const outcome = zk.sync(r.path).then(
          () => "succeeded",
          (e: Error) => `failed: ${e.name}`,
        );
        return withTimeout(outcome, r.timeoutMs, "sync").catch(() => `no reply in ${r.timeoutMs} ms`);
      }
      case "close":
        await sessions.get(r.name)?.close();
        sessions.delete(r.name);
        return null;
      case "children":
        return onHost(r.host, async (zk) => {
          await zk.sync(r.parent);
          return zk.getChildren(r.parent);
        });
      case "exists":
        return onHost(r.host, async (zk) => {
          await zk.sync("/");
          return (await zk.exists(r.path)) !== null;
        });
      case "startLoad": {
        stopping = false;
        loadClients = [];
        for (let i = 0; i < r.writers; i++) loadClients.push(await connect(r.connect));
        await loadClients[0]!.create(loadParent).catch((e: Error) => {
          if (!(e instanceof NodeExistsError)) throw e;
        });
        loops = loadClients.map((zk, i) => writer(zk, `w${i}-`));
        return null;
      }
      case "loadStatus":
        return { acked: acked.length, failures };
      case "stopLoad":
        stopping = true;
        await Promise.all(loops);
        await Promise.all(loadClients.map((c) => c.close().catch(() => undefined)));
        return { acked, failures };
    }
  };
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const r = JSON.parse(line) as AgentRequest;
    handle(r).then(
      (value) => process.stdout.write(JSON.stringify({ id: r.id, ok: true, value }) + "\n"),
      (e: Error) => process.stdout.write(JSON.stringify({ id: r.id, ok: false, error: String(e) }) + "\n"),
    );
  }
  for (const zk of [...sessions.values(), ...loadClients]) await zk.close().catch(() => undefined);
}

// ---------------------------------------------------------------------------------------------------------
// The test side.

class Agent {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  readonly exited: Promise<void>;
  stderr = "";

  constructor(readonly child: ChildProcess) {
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      const m = JSON.parse(line) as { id: number; ok: boolean; value?: unknown; error?: string };
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (m.ok) w?.resolve(m.value);
      else w?.reject(new Error(`agent: ${m.error}`));
    });
    child.stderr!.on("data", (b: Buffer) => (this.stderr = (this.stderr + b.toString()).slice(-8000)));
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    void this.exited.then(() => {
      for (const w of this.waiting.values()) w.reject(new Error(`agent exited\n${this.stderr}`));
      this.waiting.clear();
    });
  }

  call<T>(request: AgentCall, timeoutMs = 30_000): Promise<T> {
    const id = this.nextId++;
    const reply = new Promise<T>((resolve, reject) =>
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject }),
    );
    this.child.stdin!.write(JSON.stringify({ ...request, id }) + "\n");
    return withTimeout(reply, timeoutMs, `agent ${request.op}`);
  }
}

interface Server {
  id: number;
  ns: string;
  configPath: string;
  child?: ChildProcess;
  exited?: Promise<void>;
  output: string;
}

const prefix = `crl${process.pid}`;
const bridgeNs = `${prefix}-br`;
const createdNs: string[] = [];
const servers: Server[] = [];
let agent: Agent | undefined;
let baseDir: string | undefined;
let unavailable: string | undefined;

function ip(...args: string[]): void {
  const r = spawnSync("ip", args, { encoding: "utf8", timeout: 10_000 });
  if (r.error !== undefined) throw new Error(`ip ${args.join(" ")}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`ip ${args.join(" ")} exited ${r.status}: ${r.stderr.trim()}`);
}

function addNamespace(name: string): void {
  ip("netns", "add", name);
  createdNs.push(name);
  ip("-n", name, "link", "set", "lo", "up");
}

function removeNamespaces(): void {
  while (createdNs.length > 0) spawnSync("ip", ["netns", "del", createdNs.pop()!], { timeout: 10_000 });
}

function spawnIn(ns: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  // `ip netns exec` execs the command: the child's pid is node's, so killing it kills exactly that server.
  return spawn("ip", ["netns", "exec", ns, process.execPath, ...args], {
    cwd: repoRoot,
    stdio: ["pipe", "pipe", "pipe"],
    env,
  });
}

process.on("exit", () => {
  for (const s of servers) s.child?.kill("SIGKILL");
  agent?.child.kill("SIGKILL");
  removeNamespaces();
});

/** Builds the namespaces, veths and bridges; every command runs inside a namespace made here. */
function buildNetwork(): void {
  addNamespace(bridgeNs);
  for (const br of ["brq", "brc"]) {
    ip("-n", bridgeNs, "link", "add", br, "type", "bridge");
    ip("-n", bridgeNs, "link", "set", br, "up");
  }
  ip("-n", bridgeNs, "addr", "add", "10.201.2.254/24", "dev", "brc");
  for (const s of servers) {
    addNamespace(s.ns);
    for (const [kind, addr] of [
      ["q", quorumAddr(s.id)],
      ["c", clientAddr(s.id)],
    ] as const) {
      const outer = `${kind}${s.id}`;
      // Created from inside the bridge namespace, its peer moved straight into the server's.
      ip("-n", bridgeNs, "link", "add", outer, "type", "veth", "peer", "name", `${kind}0`, "netns", s.ns);
      ip("-n", bridgeNs, "link", "set", outer, "master", `br${kind}`);
      ip("-n", bridgeNs, "link", "set", outer, "up");
      ip("-n", s.ns, "addr", "add", `${addr}/24`, "dev", `${kind}0`);
      ip("-n", s.ns, "link", "set", `${kind}0`, "up");
    }
  }
}

function writeConfigs(): void {
  baseDir = mkdtempSync(join(tmpdir(), "corral-partition-"));
  const serverLines = servers.map(
    (s) => `server.${s.id}=${quorumAddr(s.id)}:2888:3888;${clientAddr(s.id)}:${clientPort}`,
  );
  for (const s of servers) {
    const dataDir = join(baseDir, `s${s.id}`, "data");
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, "myid"), `${s.id}\n`);
    s.configPath = join(baseDir, `s${s.id}`, "zoo.cfg");
    const cfg = [
      `tickTime=${tickTime}`,
      "initLimit=10",
      `syncLimit=${syncLimit}`,
      `dataDir=${dataDir}`,
      `clientPort=${clientPort}`,
      `clientPortAddress=${clientAddr(s.id)}`,
      "4lw.commands.whitelist=*",
      ...serverLines,
    ];
    writeFileSync(s.configPath, cfg.join("\n") + "\n");
  }
}

function launch(s: Server): void {
  const env = { ...process.env, CORRAL_LOG_LEVEL: process.env.CORRAL_LOG_LEVEL ?? "info" };
  const child = spawnIn(s.ns, [corralBin, "server", s.configPath], env);
  s.child = child;
  s.output = "";
  const append = (b: Buffer): void => {
    s.output = (s.output + b.toString("utf8")).slice(-256 * 1024);
  };
  child.stdout!.on("data", append);
  child.stderr!.on("data", append);
  s.exited = new Promise((resolve) => child.once("exit", () => resolve()));
}

async function stopServer(s: Server): Promise<void> {
  if (s.child === undefined || s.child.exitCode !== null || s.child.signalCode !== null) return;
  s.child.kill("SIGKILL");
  await s.exited;
}

function logs(): string {
  return servers.map((s) => `--- server ${s.id} ---\n${s.output.slice(-4000)}`).join("\n");
}

async function modes(among: readonly Server[]): Promise<(string | null)[]> {
  return Promise.all(among.map((s) => agent!.call<string | null>({ op: "mode", host: clientAddr(s.id) })));
}

/** Waits until exactly one of `among` leads and the rest follow; returns the leader. */
async function waitForQuorum(among: readonly Server[], timeoutMs = 20_000): Promise<Server> {
  let leader: Server | undefined;
  let last: (string | null)[] = [];
  await waitFor(
    async () => {
      last = await modes(among);
      const leaders = among.filter((_, i) => last[i] === "leader");
      leader =
        leaders.length === 1 && last.filter((m) => m === "follower").length === among.length - 1
          ? leaders[0]
          : undefined;
      return leader !== undefined;
    },
    { timeoutMs, intervalMs: 50, message: `one leader among ${among.map((s) => s.id).join(",")}` },
  ).catch((e: Error) => {
    e.message += `; last modes ${JSON.stringify(last)}`;
    throw e;
  });
  return leader!;
}

async function waitForLoad(count: number, timeoutMs = 20_000): Promise<void> {
  const start = (await agent!.call<{ acked: number }>({ op: "loadStatus" })).acked;
  await waitFor(
    async () => (await agent!.call<{ acked: number }>({ op: "loadStatus" })).acked >= start + count,
    { timeoutMs, intervalMs: 50, message: `${count} more acknowledged writes` },
  );
}

if (process.argv.includes("--netns-agent")) {
  await runAgent();
} else {
  const isRoot = process.getuid?.() === 0;
  const ipMissing = spawnSync("ip", ["-V"]).error !== undefined;
  const staticSkip = !isRoot
    ? "needs root to create network namespaces"
    : ipMissing
      ? "needs `ip` from iproute2"
      : undefined;

  before(async () => {
    if (staticSkip !== undefined) return;
    for (let id = 1; id <= 3; id++) servers.push({ id, ns: `${prefix}-s${id}`, configPath: "", output: "" });
    try {
      buildNetwork();
    } catch (e) {
      removeNamespaces();
      unavailable = `cannot build the test network: ${(e as Error).message}`;
      return;
    }
    writeConfigs();
    for (const s of servers) launch(s);
    const agentEnv = { ...process.env };
    delete agentEnv.NODE_TEST_CONTEXT;
    agent = new Agent(spawnIn(bridgeNs, [fileURLToPath(import.meta.url), "--netns-agent"], agentEnv));
  });

  after(async () => {
    if (agent !== undefined) {
      agent.child.stdin?.end();
      const t = setTimeout(() => agent?.child.kill("SIGKILL"), 5_000);
      await agent.exited;
      clearTimeout(t);
    }
    await Promise.all(servers.map(stopServer));
    removeNamespaces();
    if (baseDir !== undefined) rmSync(baseDir, { recursive: true, force: true });
  });

  test(
    "an isolated leader stops taking writes, the majority elects a new one, and after healing all converge",
    { skip: inCi ? undefined : staticSkip, timeout: 120_000 },
    async (t) => {
      if (staticSkip !== undefined) throw new Error(`CI=true but ${staticSkip}`);
      if (unavailable !== undefined) {
        if (inCi) throw new Error(unavailable);
        t.skip(unavailable);
        return;
      }
      const a = agent!;
      try {
        const leader = await waitForQuorum(servers, 30_000);
        const majority = servers.filter((s) => s !== leader);
        const all = servers.map((s) => `${clientAddr(s.id)}:${clientPort}`).join(",");
        await a.call({ op: "startLoad", connect: all, writers: 3 });
        await waitForLoad(30);
        // A session on the leader alone, opened while it still leads.
        await a.call({ op: "open", name: "old", connect: `${clientAddr(leader.id)}:${clientPort}` });
        // The load pauses so the leader has nothing in flight: a sync it answered without asking a
        // quorum would succeed at once.
        await a.call({ op: "stopLoad" });

        ip("-n", leader.ns, "link", "set", "q0", "down");
        const isolatedAt = Date.now();
        const staleSync = a.call<string>({ op: "sync", name: "old", path: "/", timeoutMs: 8_000 });
        const staleWrite = a.call<string>({
          op: "create",
          name: "old",
          path: "/written-to-isolated-leader",
          timeoutMs: 8_000,
        });
        await a.call({ op: "startLoad", connect: all, writers: 3 });

        const newLeader = await waitForQuorum(majority, 20_000);
        const electedMs = Date.now() - isolatedAt;
        await waitForLoad(50);
        // The old leader gives up leading once it misses its quorum for syncLimit ticks.
        await waitFor(async () => (await modes([leader]))[0] !== "leader", {
          timeoutMs: 10_000,
          message: `isolated server ${leader.id} to stop leading`,
        });
        const staleOutcome = await staleWrite;
        assert.notEqual(staleOutcome, "succeeded", "a write through the isolated leader succeeded");
        const syncOutcome = await staleSync;
        assert.notEqual(syncOutcome, "succeeded", "a sync on the isolated leader succeeded");
        await a.call({ op: "close", name: "old" });

        ip("-n", leader.ns, "link", "set", "q0", "up");
        const settled = await waitForQuorum(servers, 30_000);
        assert.notEqual(settled.id, leader.id, "the isolated leader came back leading");
        await waitForLoad(30);
        const { acked, failures } = await a.call<{ acked: string[]; failures: number }>({
          op: "stopLoad",
        });
        t.diagnostic(
          `leader ${leader.id} isolated; server ${newLeader.id} elected after ${electedMs} ms; ` +
            `write to the isolated leader: ${staleOutcome}; sync on it: ${syncOutcome}; ` +
            `${acked.length} acked, ${failures} failed`,
        );

        let sets: Set<string>[] = [];
        await waitFor(
          async () => {
            sets = (
              await Promise.all(
                servers.map((s) =>
                  a.call<string[]>({ op: "children", host: clientAddr(s.id), parent: loadParent }),
                ),
              )
            ).map((c) => new Set(c));
            return sets.every((x) => x.size === sets[0]!.size && [...x].every((c) => sets[0]!.has(c)));
          },
          { timeoutMs: 20_000, intervalMs: 100, message: "all three to hold the same children" },
        );
        for (const [i, set] of sets.entries()) {
          const missing = acked.filter((p) => !set.has(p.slice(loadParent.length + 1)));
          assert.deepEqual(missing, [], `acknowledged writes missing on server ${servers[i]!.id}`);
        }
        // The write the isolated leader could not commit is gone everywhere.
        for (const s of servers)
          assert.equal(
            await a.call<boolean>({
              op: "exists",
              host: clientAddr(s.id),
              path: "/written-to-isolated-leader",
            }),
            false,
            `server ${s.id} has the write sent to the isolated leader`,
          );
      } catch (e) {
        if (e instanceof Error) e.message += `\n--- agent stderr ---\n${a.stderr}\n${logs()}`;
        throw e;
      }
    },
  );
}
