// The audit log (zoo.cfg `audit.enable=true`): one line per audited operation, in ZooKeeper's layout, to
// audit.log in `audit.logDir` (dataDir by default), through its own pino destination. Formatting is pure;
// only AuditLog writes.
import { userInfo } from "node:os";
import { join } from "node:path";
import pino from "pino";
import type { ACL, Id, MultiOp, OpResult, Request } from "../protocol/types.js";
import { OpCode } from "../protocol/opcodes.js";
import { Code } from "../protocol/error-codes.js";
import { ConfigError } from "../base/errors.js";

/** AuditEvent.Result, lower-cased as ZooKeeper writes it. */
export type AuditResult = "success" | "failure" | "invoked";

/** AuditEvent's fields, named as ZooKeeper names them (FieldName lower-cased); absent ones are left out. */
export interface AuditEvent {
  session?: string;
  user?: string;
  ip?: string;
  operation: string;
  znode?: string;
  znode_type?: string;
  acl?: string;
  result: AuditResult;
}

/** AuditConstants. */
export const AuditOp = {
  serverStart: "serverStart",
  serverStop: "serverStop",
  create: "create",
  delete: "delete",
  setData: "setData",
  setAcl: "setAcl",
  multiOperation: "multiOperation",
  reconfig: "reconfig",
  ephemeralDeletion: "ephemeralZNodeDeletionOnSessionCloseOrExpire",
} as const;

/** The client a request came from. */
export interface AuditClient {
  sessionId: bigint;
  authInfo: readonly Id[];
  ip: string;
}

const fieldOrder = ["session", "user", "ip", "operation", "znode", "znode_type", "acl"] as const;

/** AuditEvent.toString: `key=value` pairs separated by tabs, in ZooKeeper's order, then `result=`. */
export function formatAuditEvent(e: AuditEvent): string {
  const parts: string[] = [];
  for (const key of fieldOrder) {
    const v = e[key];
    if (v !== undefined) parts.push(`${key}=${v}`);
  }
  parts.push(`result=${e.result}`);
  return parts.join("\t");
}

/**
 * One line of the file, as ZooKeeper's RFAAUDIT appender writes it (`%d{ISO8601} %p %c{2}: %m%n`, local
 * time): failures at ERROR, the rest at INFO. The logger name is ZooKeeper's, so tools that read its audit
 * logs read ours.
 */
export function formatAuditLine(e: AuditEvent, at: Date): string {
  const level = e.result === "failure" ? "ERROR" : "INFO";
  return `${iso8601(at)} ${level} audit.Slf4jAuditLogger: ${formatAuditEvent(e)}\n`;
}

function iso8601(d: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, "0");
  return (
    `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())},${p(d.getMilliseconds(), 3)}`
  );
}

/** ServerCnxn.getSessionIdHex: `0x` and the id as an unsigned 64-bit hex number. */
export function sessionHex(sessionId: bigint): string {
  return "0x" + BigInt.asUintN(64, sessionId).toString(16);
}

/**
 * AuthUtil.getUsers: each authenticated id's user name (an ip id's address, a digest id's user before
 * `:`; `super` has no provider and gives none), comma-separated; undefined when there is none.
 */
export function auditUser(authInfo: readonly Id[]): string | undefined {
  const names: string[] = [];
  for (const { scheme, id } of authInfo) {
    let name: string | undefined;
    if (scheme === "digest") name = id.split(":")[0];
    else if (scheme === "ip" || scheme === "sasl" || scheme === "x509") name = id;
    if (name !== undefined && name.trim() !== "") names.push(name);
  }
  return names.length > 0 ? names.join(",") : undefined;
}

/** ZKUtil.aclToString: `scheme:id:perms` for each entry, with no separator between entries (as ZooKeeper). */
export function aclToString(acl: readonly ACL[]): string {
  let out = "";
  for (const a of acl) out += `${a.id.scheme}:${a.id.id}:${permString(a.perms)}`;
  return out;
}

/** ZKUtil.getPermString: c, d, r, w, a in that order. */
export function permString(perms: number): string {
  return (
    (perms & 4 ? "c" : "") +
    (perms & 8 ? "d" : "") +
    (perms & 1 ? "r" : "") +
    (perms & 2 ? "w" : "") +
    (perms & 16 ? "a" : "")
  );
}

const createModes = [
  "persistent",
  "ephemeral",
  "persistent_sequential",
  "ephemeral_sequential",
  "container",
  "persistent_with_ttl",
  "persistent_sequential_with_ttl",
];

/** CreateMode.fromFlag(flags).toString().toLowerCase(); undefined for a flag ZooKeeper does not know. */
export function createModeName(flags: number): string | undefined {
  return createModes[flags];
}

/**
 * AuditHelper.addAuditLog: the lines a write answered with `err` (and, for a successful multi, its
 * sub-results) produces; none for operations that are not audited. `path` is where the txn landed (a
 * create's name with its sequential suffix); a failed op names the path it asked for.
 */
export function auditEventsForWrite(
  client: AuditClient,
  op: number,
  request: Request | null,
  err: number,
  path: string | undefined,
  multiResults: readonly OpResult[] | undefined,
): AuditEvent[] {
  const who = {
    session: sessionHex(client.sessionId),
    user: auditUser(client.authInfo),
    ip: client.ip,
  };
  const result: AuditResult = err === Code.ok ? "success" : "failure";
  const one = (operation: string, fields: Partial<AuditEvent> = {}): AuditEvent[] => [
    { ...who, operation, ...fields, result },
  ];
  switch (request?.type) {
    case "create":
      // ZooKeeper's non-multi switch leaves createTTL out; Corral audits it like any create.
      return one(AuditOp.create, {
        znode: err === Code.ok ? (path ?? request.req.path) : request.req.path,
        znode_type: createModeName(request.req.flags),
      });
    case "delete":
      return one(AuditOp.delete, { znode: err === Code.ok ? (path ?? request.req.path) : request.req.path });
    case "setData":
      return one(AuditOp.setData, { znode: err === Code.ok ? (path ?? request.req.path) : request.req.path });
    case "setACL":
      return one(AuditOp.setAcl, {
        znode: err === Code.ok ? (path ?? request.req.path) : request.req.path,
        acl: aclToString(request.req.acl),
      });
    case "reconfig":
      return one(AuditOp.reconfig, path === undefined ? {} : { znode: path });
    case "multi":
      if (op !== OpCode.multi) return [];
      return multiEvents(who, request.ops, err, multiResults ?? []);
    default:
      return [];
  }
}

/** AuditHelper.logMultiOperation: a line per create, delete and setData, or one failure for the whole. */
function multiEvents(
  who: Pick<AuditEvent, "session" | "user" | "ip">,
  ops: readonly MultiOp[],
  err: number,
  results: readonly OpResult[],
): AuditEvent[] {
  if (err !== Code.ok || results.some((r) => r.type === "error")) {
    return [{ ...who, operation: AuditOp.multiOperation, result: "failure" }];
  }
  const out: AuditEvent[] = [];
  results.forEach((r, i) => {
    const o = ops[i];
    if (o === undefined) return;
    if (r.type === "create" && o.type === "create") {
      const znode_type = createModeName(o.req.flags);
      out.push({ ...who, operation: AuditOp.create, znode: r.path, znode_type, result: "success" });
    } else if (r.type === "delete" && o.type === "delete") {
      out.push({ ...who, operation: AuditOp.delete, znode: o.req.path, result: "success" });
    } else if (r.type === "setData" && o.type === "setData") {
      out.push({ ...who, operation: AuditOp.setData, znode: o.req.path, result: "success" });
    }
  });
  return out;
}

/** ZKAuditProvider.getZKUser: without a login user, the user the server runs as. */
export function serverUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? "<NA>";
  }
}

export const auditLogFileName = "audit.log";
/** How long opening the audit log may take before start-up gives up. */
const auditOpenTimeoutMs = 10_000;

/** The file itself: opened at start, written asynchronously in order, flushed on close. */
export class AuditLog {
  readonly file: string;
  private readonly dest: ReturnType<typeof pino.destination>;
  private readonly user = serverUser();
  private closing: Promise<void> | null = null;

  private constructor(
    dir: string,
    private readonly now: () => Date,
  ) {
    this.file = join(dir, auditLogFileName);
    this.dest = pino.destination({ dest: this.file, mkdir: true, sync: false, append: true });
  }

  /** Opens (creating the directory); a directory that cannot be written stops start-up naming the key. */
  static async open(
    dir: string,
    onError: (e: Error) => void,
    now: () => Date = () => new Date(),
  ): Promise<AuditLog> {
    const log = new AuditLog(dir, now);
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        const fail = (why: string): void =>
          reject(new ConfigError("audit.logDir", `cannot open ${log.file}: ${why}`));
        log.dest.once("ready", () => resolve());
        log.dest.once("error", (e: Error) => fail(e.message));
        // A directory the kernel answers oddly (procfs) can leave a recursive mkdir without an answer.
        timer = setTimeout(() => fail(`no answer within ${auditOpenTimeoutMs} ms`), auditOpenTimeoutMs);
      });
    } finally {
      clearTimeout(timer);
    }
    // A write that fails later (a full disk) is reported, not thrown: the server goes on serving.
    log.dest.on("error", onError);
    return log;
  }

  write(e: AuditEvent): void {
    if (this.closing !== null) return;
    this.dest.write(formatAuditLine(e, this.now()));
  }

  /** A client's write was answered: its lines, if it is an audited operation. */
  writeRequest(
    client: AuditClient,
    op: number,
    request: Request | null,
    err: number,
    path: string | undefined,
    multiResults: readonly OpResult[] | undefined,
  ): void {
    for (const e of auditEventsForWrite(client, op, request, err, path, multiResults)) this.write(e);
  }

  /** DataTree.killSession: the server deleted a closed or expired session's ephemerals. */
  writeEphemeralDeletions(sessionId: bigint, paths: readonly string[]): void {
    for (const znode of paths)
      this.write({
        session: sessionHex(sessionId),
        user: this.user,
        operation: AuditOp.ephemeralDeletion,
        znode,
        result: "success",
      });
  }

  /** serverStart (success or failure) and serverStop (invoked: logged before the server has stopped). */
  writeServer(operation: "serverStart" | "serverStop", result: AuditResult): void {
    this.write({ user: this.user, operation, result });
  }

  /** Writes what is queued and closes the file. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.dest.once("close", () => resolve());
      this.dest.once("error", () => resolve());
      this.dest.end();
    });
    return this.closing;
  }
}
