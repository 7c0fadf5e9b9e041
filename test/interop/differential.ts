// Differential testing: one seeded sequence of raw ZooKeeper operations run against two servers, results
// normalised (absolute times and zxids removed, session ids aliased) and compared op by op.
// Test helper: the generator is pure (SeededPrng); the executor talks to servers through RawClient.
import { SeededPrng } from "../../src/base/clock.js";
import {
  type ACL,
  type JuteReader,
  type MultiOp,
  type Reply,
  type Stat,
  decodeMultiResponse,
  digestId,
  encodeCreate,
  encodeCreateTTL,
  encodeMulti,
  encodePathWatch,
  encodeSetData,
  JuteWriter,
  Op,
  Perm,
  RawClient,
} from "../helpers/raw-client.js";
import { withTimeout } from "../helpers/wait.js";
import { startServer, type ManagedServer, type ServerKind, type ServerOptions } from "../helpers/servers.js";
import { startZooKeeperEnsemble } from "../helpers/zookeeper-ensemble.js";
import { CorralEnsemble } from "../helpers/corral-ensemble.js";

// ---------- the operations ----------

/** "$R" in a path is the run's root node; "$S<k>" is the k-th sequential node created so far (mod count). */
type PathSpec = string;
/** A version number, or "cur"/"cur+1": the node's current version (right) or one past it (wrong), looked up first. */
type VersionSpec = number | "cur" | "cur+1";
type DataSpec = { bytes: number[] } | null;
type AclSpec =
  | "open"
  | "worldRead"
  | "worldNoAdmin"
  | "worldNoDelete"
  | "digestAlice"
  | "digestBobReadOnly"
  | "auth"
  | "ipLoopback"
  | "invalidWorldId"
  | "invalidEmpty"
  | "invalidDigest"
  | "invalidIp";

type CreateOpcode = typeof Op.create | typeof Op.create2 | typeof Op.createContainer | typeof Op.createTTL;

export type DiffSubOp =
  | { op: "create"; path: PathSpec; data: DataSpec; acl: AclSpec; flags: number }
  | { op: "delete"; path: PathSpec; version: VersionSpec }
  | { op: "setData"; path: PathSpec; data: DataSpec; version: VersionSpec }
  | { op: "check"; path: PathSpec; version: VersionSpec };

export type DiffOp = { client: number } & (
  | {
      op: "create";
      opcode: CreateOpcode;
      path: PathSpec;
      data: DataSpec;
      acl: AclSpec;
      flags: number;
      ttl: number;
    }
  | { op: "delete"; path: PathSpec; version: VersionSpec }
  | { op: "setData"; path: PathSpec; data: DataSpec; version: VersionSpec }
  | { op: "exists" | "getData" | "getChildren" | "getChildren2" | "getACL" | "sync"; path: PathSpec }
  | { op: "getAllChildrenNumber" | "getEphemerals"; path: PathSpec }
  | { op: "setACL"; path: PathSpec; acl: AclSpec; version: VersionSpec }
  | { op: "addAuth"; user: string; password: string }
  | { op: "multi"; ops: DiffSubOp[] }
);

export const clientsPerRun = 3;
const users = [
  ["alice", "alice-secret"],
  ["bob", "bob-secret"],
] as const;

const nodePaths = ["$R/a", "$R/b", "$R/c", "$R/é", "$R/a/x", "$R/a/y", "$R/b/x", "$R/a/x/z", "$R/c/q"];
const sequentialPrefixes = ["$R/a/s-", "$R/b/s-", "$R/s-", "$R/a/"];
const invalidPaths = [
  "",
  "nolead",
  "$R/a/",
  "$R//a",
  "$R/a/./b",
  "$R/a/../b",
  "$R/.",
  "$R/a\u0000b",
  "$R/a\u0001b",
  "$R/🦊",
];
const systemPaths = ["/zookeeper", "/zookeeper/quota", "/zookeeper/config"];
const aclSpecs: AclSpec[] = [
  "open",
  "open",
  "open",
  "worldRead",
  "worldNoAdmin",
  "worldNoDelete",
  "digestAlice",
  "digestBobReadOnly",
  "auth",
  "ipLoopback",
  "invalidWorldId",
  "invalidEmpty",
  "invalidDigest",
  "invalidIp",
];

class Gen {
  constructor(readonly prng: SeededPrng) {}
  below(n: number): number {
    return this.prng.below(n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.prng.below(items.length)]!;
  }
  chance(percent: number): boolean {
    return this.prng.below(100) < percent;
  }
  path(): PathSpec {
    const r = this.below(100);
    if (r < 70) return this.pick(nodePaths);
    if (r < 82) return `$S${this.below(64)}`;
    if (r < 88) return "$R";
    if (r < 94) return this.pick(invalidPaths);
    return this.pick(systemPaths);
  }
  /**
   * Targets of writes: never the run root (its ACL must stay open), never "/" and never under /zookeeper, so a
   * seed's results do not depend on the seeds run before it on the same server. Reads never touch "/" either.
   */
  writePath(): PathSpec {
    const p = this.path();
    return p === "$R" ? "$R/a" : p;
  }
  version(): VersionSpec {
    const r = this.below(100);
    if (r < 40) return -1;
    if (r < 70) return "cur";
    if (r < 85) return "cur+1";
    return this.below(4);
  }
  data(): DataSpec {
    const r = this.below(100);
    if (r < 10) return null;
    if (r < 20) return { bytes: [] };
    const n = r < 95 ? 1 + this.below(16) : 200 + this.below(2000);
    const bytes: number[] = [];
    for (let i = 0; i < n; i++) bytes.push(this.below(256));
    return { bytes };
  }
  createFlags(): { opcode: CreateOpcode; flags: number; ttl: number } {
    const r = this.below(100);
    if (r < 30) return { opcode: Op.create, flags: 0, ttl: 0 };
    if (r < 45) return { opcode: Op.create2, flags: this.pick([0, 1]), ttl: 0 };
    if (r < 60) return { opcode: this.pick([Op.create, Op.create2]), flags: this.pick([2, 3]), ttl: 0 };
    if (r < 72) return { opcode: Op.createContainer, flags: 4, ttl: 0 };
    if (r < 84) return { opcode: Op.createTTL, flags: this.pick([5, 6]), ttl: 3_600_000 + this.below(1000) };
    if (r < 88) return { opcode: Op.createTTL, flags: this.pick([5, 6]), ttl: this.pick([0, -1]) };
    if (r < 92) return { opcode: Op.createTTL, flags: this.pick([0, 1, 4]), ttl: 3_600_000 };
    if (r < 95)
      return { opcode: this.pick([Op.create, Op.create2]), flags: this.pick([4, 5, 6, 7, -1]), ttl: 0 };
    if (r < 96) return { opcode: Op.create, flags: 0, ttl: -2 }; // -2: create "/" itself, which must fail
    return { opcode: Op.createContainer, flags: this.pick([0, 1, 2]), ttl: 0 };
  }
  createPath(flags: number, ttl = 0): PathSpec {
    if (ttl === -2) return "/";
    const sequential = flags === 2 || flags === 3 || flags === 6;
    if (sequential && this.chance(80)) return this.pick(sequentialPrefixes);
    return this.writePath();
  }
  subOp(): DiffSubOp {
    const r = this.below(100);
    if (r < 35) {
      const flags = this.pick([0, 0, 1, 2, 3]);
      return {
        op: "create",
        path: this.createPath(flags),
        data: this.data(),
        acl: this.pick(aclSpecs),
        flags,
      };
    }
    if (r < 55) return { op: "delete", path: this.writePath(), version: this.version() };
    if (r < 80) return { op: "setData", path: this.writePath(), data: this.data(), version: this.version() };
    return { op: "check", path: this.writePath(), version: this.version() };
  }
  op(): DiffOp {
    const client = this.below(clientsPerRun);
    const r = this.below(1000);
    if (r < 260) {
      const { opcode, flags, ttl } = this.createFlags();
      return {
        client,
        op: "create",
        opcode,
        path: this.createPath(flags, ttl),
        data: this.data(),
        acl: this.pick(aclSpecs),
        flags,
        ttl: Math.max(ttl, 0),
      };
    }
    if (r < 380) return { client, op: "delete", path: this.writePath(), version: this.version() };
    if (r < 500)
      return { client, op: "setData", path: this.writePath(), data: this.data(), version: this.version() };
    if (r < 560) return { client, op: "exists", path: this.path() };
    if (r < 640) return { client, op: "getData", path: this.path() };
    if (r < 680) return { client, op: "getChildren", path: this.path() };
    if (r < 720) return { client, op: "getChildren2", path: this.path() };
    if (r < 750) return { client, op: "getACL", path: this.path() };
    if (r < 800)
      return {
        client,
        op: "setACL",
        path: this.writePath(),
        acl: this.pick(aclSpecs),
        version: this.version(),
      };
    if (r < 815) {
      const [user, password] = this.pick(users);
      return { client, op: "addAuth", user, password: this.chance(80) ? password : "wrong" };
    }
    if (r < 900) {
      const ops: DiffSubOp[] = [];
      const n = 1 + this.below(4);
      for (let i = 0; i < n; i++) ops.push(this.subOp());
      if (this.chance(25))
        ops.splice(this.below(ops.length + 1), 0, { op: "check", path: "$R", version: 999_999 });
      return { client, op: "multi", ops };
    }
    if (r < 920) return { client, op: "sync", path: this.path() };
    if (r < 950) return { client, op: "getAllChildrenNumber", path: this.path() };
    if (r < 980)
      return { client, op: "getEphemerals", path: this.pick(["/", "$R", "$R/a", "$R/b/", "/nothing"]) };
    // writes aimed at the system subtree: each must fail, so runs stay independent of each other
    const target = this.below(3);
    if (target === 0)
      return { client, op: "delete", path: this.pick(["/zookeeper", "/zookeeper/quota"]), version: -1 };
    if (target === 1)
      return { client, op: "setData", path: "/zookeeper/config", data: this.data(), version: -1 };
    return {
      client,
      op: "create",
      opcode: Op.create,
      path: "/zookeeper",
      data: null,
      acl: "open",
      flags: 0,
      ttl: 0,
    };
  }
}

/** The op sequence for one seed: pure, the same on every machine. */
export function generateOps(seed: number, count: number): DiffOp[] {
  const gen = new Gen(new SeededPrng(seed));
  const ops: DiffOp[] = [];
  for (let i = 0; i < count; i++) ops.push(gen.op());
  return ops;
}

function aclFor(spec: AclSpec): ACL[] {
  const world = (perms: number): ACL => ({ perms, scheme: "world", id: "anyone" });
  switch (spec) {
    case "open":
      return [world(Perm.all)];
    case "worldRead":
      return [world(Perm.read)];
    case "worldNoAdmin":
      return [world(Perm.all & ~Perm.admin)];
    case "worldNoDelete":
      return [world(Perm.all & ~Perm.delete)];
    case "digestAlice":
      return [{ perms: Perm.all, scheme: "digest", id: digestId("alice", "alice-secret") }, world(Perm.read)];
    case "digestBobReadOnly":
      return [
        { perms: Perm.read, scheme: "digest", id: digestId("bob", "bob-secret") },
        { perms: Perm.all, scheme: "digest", id: digestId("alice", "alice-secret") },
      ];
    case "auth":
      return [{ perms: Perm.all, scheme: "auth", id: "" }];
    case "ipLoopback":
      return [{ perms: Perm.all, scheme: "ip", id: "127.0.0.1" }];
    case "invalidWorldId":
      return [{ perms: Perm.all, scheme: "world", id: "bob" }];
    case "invalidEmpty":
      return [];
    case "invalidDigest":
      return [{ perms: Perm.all, scheme: "digest", id: "nohash" }];
    case "invalidIp":
      return [{ perms: Perm.all, scheme: "ip", id: "not-an-ip" }];
  }
}

// ---------- execution ----------

/** A raw result before normalisation: what came back, with bigints and absolute values intact. */
export interface RawResult {
  zxid?: bigint;
  err?: number;
  /** "closed", "timeout": the connection failed rather than the op. */
  failure?: string;
  body?: unknown;
}

export interface RunOutcome {
  root: string;
  sessionIds: bigint[];
  results: RawResult[];
}

const opTimeoutMs = 10_000;

/** Runs `ops` in order on one server under `root` with fresh sessions, then closes them. */
export class Execution {
  private readonly created: string[] = [];
  readonly results: RawResult[] = [];
  private constructor(
    readonly root: string,
    readonly clients: RawClient[],
  ) {}

  static async open(host: string, port: number, root: string): Promise<Execution> {
    const clients: RawClient[] = [];
    for (let i = 0; i < clientsPerRun; i++) clients.push(await RawClient.connect(host, port));
    const admin = clients[0]!;
    const reply = await admin.request(Op.create, encodeCreate(root, null, aclFor("open"), 0));
    if (reply.err !== 0) throw new Error(`creating run root ${root}: error ${reply.err}`);
    return new Execution(root, clients);
  }

  private resolvePath(spec: PathSpec): string {
    const m = /^\$S(\d+)$/.exec(spec);
    if (m !== null) {
      if (this.created.length === 0) return `${this.root}/none`;
      return this.created[Number(m[1]) % this.created.length]!;
    }
    return spec.startsWith("$R") ? this.root + spec.slice(2) : spec;
  }

  private async resolveVersion(client: RawClient, path: string, spec: VersionSpec): Promise<number> {
    if (typeof spec === "number") return spec;
    const reply = await client.request(Op.exists, encodePathWatch(path, false));
    const version = reply.err === 0 ? reply.body.stat().version : 0;
    return spec === "cur" ? version : version + 1;
  }

  private noteCreated(path: string): void {
    if (/\d{10}$/.test(path)) this.created.push(path);
  }

  async run(op: DiffOp): Promise<RawResult> {
    const client = this.clients[op.client]!;
    let result: RawResult;
    if (client.closed) result = { failure: "closed" };
    else {
      try {
        result = await withTimeout(this.send(client, op), opTimeoutMs, `op ${JSON.stringify(op)}`);
      } catch (err) {
        result = { failure: client.closed ? "closed" : `error: ${(err as Error).message}` };
      }
    }
    this.results.push(result);
    return result;
  }

  private async send(client: RawClient, op: DiffOp): Promise<RawResult> {
    const reply = (r: Reply, body?: (b: JuteReader) => unknown): RawResult => ({
      zxid: r.zxid,
      err: r.err,
      ...(r.err === 0 && body !== undefined ? { body: body(r.body) } : {}),
    });
    const data = (d: DataSpec): Uint8Array | null => (d === null ? null : Uint8Array.from(d.bytes));
    switch (op.op) {
      case "create": {
        const path = this.resolvePath(op.path);
        const acl = aclFor(op.acl);
        const body =
          op.opcode === Op.createTTL
            ? encodeCreateTTL(path, data(op.data), acl, op.flags, BigInt(op.ttl))
            : encodeCreate(path, data(op.data), acl, op.flags);
        const r = await client.request(op.opcode, body);
        const res = reply(r, (b) =>
          op.opcode === Op.create ? { path: b.string() } : { path: b.string(), stat: b.stat() },
        );
        if (r.err === 0) this.noteCreated((res.body as { path: string }).path);
        return res;
      }
      case "delete": {
        const path = this.resolvePath(op.path);
        const version = await this.resolveVersion(client, path, op.version);
        return reply(await client.request(Op.delete, new JuteWriter().string(path).int(version).toBuffer()));
      }
      case "setData": {
        const path = this.resolvePath(op.path);
        const version = await this.resolveVersion(client, path, op.version);
        return reply(await client.request(Op.setData, encodeSetData(path, data(op.data), version)), (b) =>
          b.stat(),
        );
      }
      case "exists":
        return reply(
          await client.request(Op.exists, encodePathWatch(this.resolvePath(op.path), false)),
          (b) => b.stat(),
        );
      case "getData":
        return reply(
          await client.request(Op.getData, encodePathWatch(this.resolvePath(op.path), false)),
          (b) => ({
            data: b.buffer(),
            stat: b.stat(),
          }),
        );
      case "getChildren":
        return reply(
          await client.request(Op.getChildren, encodePathWatch(this.resolvePath(op.path), false)),
          (b) => b.vector((x) => x.string()),
        );
      case "getChildren2":
        return reply(
          await client.request(Op.getChildren2, encodePathWatch(this.resolvePath(op.path), false)),
          (b) => ({
            children: b.vector((x) => x.string()),
            stat: b.stat(),
          }),
        );
      case "getACL":
        return reply(
          await client.request(Op.getACL, new JuteWriter().string(this.resolvePath(op.path)).toBuffer()),
          (b) => ({ acl: b.acl(), stat: b.stat() }),
        );
      case "setACL": {
        const path = this.resolvePath(op.path);
        const stat = await client.exists(path).catch(() => null);
        const version =
          typeof op.version === "number"
            ? op.version
            : (stat?.aversion ?? 0) + (op.version === "cur" ? 0 : 1);
        return reply(
          await client.request(
            Op.setACL,
            new JuteWriter().string(path).acl(aclFor(op.acl)).int(version).toBuffer(),
          ),
          (b) => b.stat(),
        );
      }
      case "sync":
        return reply(
          await client.request(Op.sync, new JuteWriter().string(this.resolvePath(op.path)).toBuffer()),
          (b) => b.string(),
        );
      case "getAllChildrenNumber":
        return reply(
          await client.request(
            Op.getAllChildrenNumber,
            new JuteWriter().string(this.resolvePath(op.path)).toBuffer(),
          ),
          (b) => b.int(),
        );
      case "getEphemerals":
        return reply(
          await client.request(
            Op.getEphemerals,
            new JuteWriter().string(this.resolvePath(op.path)).toBuffer(),
          ),
          (b) => b.vector((x) => x.string()),
        );
      case "addAuth": {
        const auth = new JuteWriter()
          .int(0)
          .string("digest")
          .buffer(Buffer.from(`${op.user}:${op.password}`));
        return reply(await client.request(Op.auth, auth.toBuffer(), -4));
      }
      case "multi": {
        const subOps: MultiOp[] = [];
        for (const sub of op.ops) {
          const path = this.resolvePath(sub.path);
          switch (sub.op) {
            case "create":
              subOps.push({
                op: "create",
                path,
                data: data(sub.data),
                acl: aclFor(sub.acl),
                flags: sub.flags,
              });
              break;
            case "delete":
              subOps.push({
                op: "delete",
                path,
                version: await this.resolveVersion(client, path, sub.version),
              });
              break;
            case "setData":
              subOps.push({
                op: "setData",
                path,
                data: data(sub.data),
                version: await this.resolveVersion(client, path, sub.version),
              });
              break;
            case "check":
              subOps.push({
                op: "check",
                path,
                version: await this.resolveVersion(client, path, sub.version),
              });
              break;
          }
        }
        const r = await client.request(Op.multi, encodeMulti(subOps));
        const res = reply(r, (b) => decodeMultiResponse(b));
        for (const sub of (res.body as Array<{ type: string; path?: string }> | undefined) ?? [])
          if (sub.type === "create" && sub.path !== undefined) this.noteCreated(sub.path);
        return res;
      }
    }
  }

  /** closeSession on every client (deleting their ephemerals), in order. */
  async close(): Promise<RunOutcome> {
    const sessionIds = this.clients.map((c) => c.sessionId);
    for (const c of this.clients) await c.close();
    return { root: this.root, sessionIds, results: this.results };
  }
}

// ---------- normalisation ----------

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/**
 * Makes two servers' results comparable: zxids become their rank among the distinct zxids of the run (times
 * and absolute zxids differ between servers, their order must not), ctime/mtime are dropped, session ids become
 * "session<i>", the run root becomes "$R", children and ephemeral lists are sorted, data becomes hex.
 */
export function normalise(outcome: RunOutcome): string[] {
  const zxids = new Set<bigint>();
  const visit = (v: unknown, key?: string): void => {
    if (typeof v === "bigint" && key !== undefined && /zxid$/i.test(key)) zxids.add(v);
    else if (Array.isArray(v)) v.forEach((x) => visit(x));
    else if (v !== null && typeof v === "object" && !(v instanceof Uint8Array))
      for (const [k, x] of Object.entries(v)) visit(x, k);
  };
  outcome.results.forEach((r) => visit(r));
  const ranks = new Map([...zxids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((z, i) => [z, i]));
  const path = (p: string): string => (p.startsWith(outcome.root) ? "$R" + p.slice(outcome.root.length) : p);
  const conv = (v: unknown, key?: string): Json => {
    if (v === undefined || v === null) return null;
    if (typeof v === "bigint") {
      if (key !== undefined && /zxid$/i.test(key)) return `z${ranks.get(v)}`;
      if (key === "ephemeralOwner") {
        const i = outcome.sessionIds.indexOf(v);
        return i >= 0 ? `session${i}` : `0x${BigInt.asUintN(64, v).toString(16)}`;
      }
      return v.toString();
    }
    if (typeof v === "string") return path(v);
    if (typeof v === "number" || typeof v === "boolean") return v;
    if (v instanceof Uint8Array) {
      // An ensemble's /zookeeper/config names its servers' ports, which differ between the two runs.
      const text = Buffer.from(v).toString("utf8");
      if (/^server\.\d+=/.test(text) && text.includes("version="))
        return "config:" + text.replace(/:\d+/g, ":PORT");
      return Buffer.from(v).toString("hex");
    }
    if (Array.isArray(v)) {
      const items = v.map((x) => conv(x));
      return items.every((x) => typeof x === "string") && key !== "acl" ? [...items].sort() : items;
    }
    const out: Record<string, Json> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (k === "ctime" || k === "mtime") continue;
      out[k] = conv(x, k);
    }
    return out;
  };
  return outcome.results.map((r) => JSON.stringify(conv(r)));
}

export type { Stat };

// ---------- running a seed against two servers ----------

export interface Endpoint {
  name: string;
  host: string;
  port: number;
}

export interface Mismatch {
  seed: number;
  index: number;
  op: DiffOp;
  a: string;
  b: string;
}

export interface SeedReport {
  seed: number;
  ops: number;
  mismatches: Mismatch[];
}

/** Runs one seed's ops on both servers in lock step (each op on both, concurrently) and compares. */
export async function runSeed(
  seed: number,
  opCount: number,
  a: Endpoint,
  b: Endpoint,
  runId: string,
): Promise<SeedReport> {
  const ops = generateOps(seed, opCount);
  const root = `/diff-${runId}-${seed}`;
  const [ea, eb] = await Promise.all([
    Execution.open(a.host, a.port, root),
    Execution.open(b.host, b.port, root),
  ]);
  for (const op of ops) await Promise.all([ea.run(op), eb.run(op)]);
  const [oa, ob] = await Promise.all([ea.close(), eb.close()]);
  const na = normalise(oa);
  const nb = normalise(ob);
  const mismatches: Mismatch[] = [];
  for (let i = 0; i < ops.length; i++)
    if (na[i] !== nb[i]) mismatches.push({ seed, index: i, op: ops[i]!, a: na[i]!, b: nb[i]! });
  return { seed, ops: ops.length, mismatches };
}

/** A mismatch, printed for a human: the seed to rerun, the op and both results. */
export function describeMismatch(m: Mismatch, a: Endpoint, b: Endpoint): string {
  return [
    `seed ${m.seed} op #${m.index}: ${JSON.stringify(m.op)}`,
    `  ${a.name}: ${m.a}`,
    `  ${b.name}: ${m.b}`,
    `  rerun: node dist/test/interop/differential-run.js --first-seed ${m.seed} --seeds 1`,
  ].join("\n");
}

// ---------- a whole differential run: two servers, many seeds ----------

export interface DifferentialOptions {
  firstSeed: number;
  seeds: number;
  opsPerSeed: number;
  /** The reference (normally zookeeper) and the subject. */
  a: ServerKind;
  b: ServerKind;
  /** Stop after this many seeds with mismatches (the rest would repeat the story). */
  failingSeedsMax?: number;
  /**
   * Run against 3-node ensembles of each instead of standalone servers; every client of a seed talks to the
   * same follower, so its writes are forwarded to the leader and its reads are served by the follower.
   */
  ensembles?: boolean;
  log?: (line: string) => void;
}

export interface DifferentialSummary {
  seedsRun: number;
  opsRun: number;
  mismatchedSeeds: SeedReport[];
  elapsedMs: number;
}

/** Server options for both sides: no fsync (speed) and no container/TTL reaping mid-run (timing-dependent). */
export const differentialServerOptions: ServerOptions = {
  forceSync: false,
  containerCheckIntervalMs: 3_600_000,
};

export async function runDifferential(options: DifferentialOptions): Promise<DifferentialSummary> {
  const log = options.log ?? ((line: string) => console.log(line));
  const started = Date.now();
  const servers: { stop(): Promise<void> }[] = [];
  try {
    const start = options.ensembles === true ? startEnsembleEndpoint : startStandaloneEndpoint;
    const a = await start(options.a, servers);
    const b = await start(options.b, servers);
    const runId = started.toString(36);
    const mismatchedSeeds: SeedReport[] = [];
    let seedsRun = 0;
    let opsRun = 0;
    for (let seed = options.firstSeed; seed < options.firstSeed + options.seeds; seed++) {
      const report = await runSeed(seed, options.opsPerSeed, a, b, runId);
      seedsRun++;
      opsRun += report.ops;
      if (report.mismatches.length > 0) {
        mismatchedSeeds.push(report);
        log(`seed ${seed}: ${report.mismatches.length} mismatching ops; the first:`);
        log(describeMismatch(report.mismatches[0]!, a, b));
        if (mismatchedSeeds.length >= (options.failingSeedsMax ?? 5)) break;
      }
    }
    return { seedsRun, opsRun, mismatchedSeeds, elapsedMs: Date.now() - started };
  } finally {
    for (const s of servers) await s.stop();
  }
}

async function startStandaloneEndpoint(
  kind: ServerKind,
  started: { stop(): Promise<void> }[],
): Promise<Endpoint> {
  const s: ManagedServer = await startServer(kind, differentialServerOptions);
  started.push(s);
  return { name: `${kind}@${s.connectString}`, host: s.host, port: s.port };
}

/** A 3-node ensemble of `kind`; the endpoint is one of its followers. */
async function startEnsembleEndpoint(
  kind: ServerKind,
  started: { stop(): Promise<void> }[],
): Promise<Endpoint> {
  if (kind === "zookeeper") {
    const e = await startZooKeeperEnsemble({ size: 3, containerCheckIntervalMs: 3_600_000 });
    started.push(e);
    const f = (await e.followers())[0]!;
    return { name: `zookeeper-ensemble@${f.connectString}`, host: f.host, port: f.port };
  }
  const e = await CorralEnsemble.start({
    size: 3,
    extraConfig: {
      "znode.container.checkIntervalMs": "3600000",
      forceSync: "no",
      extendedTypesEnabled: "true",
    },
  });
  started.push(e);
  const leader = await e.waitForQuorum();
  const f = e.members.find((m) => m !== leader)!;
  return { name: `corral-ensemble@${f.connectString}`, host: f.host, port: f.clientPort };
}
