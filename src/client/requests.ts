// Request building and reply mapping for ZooKeeperClient: caller arguments → protocol Requests, Responses → results.
// Pure: no I/O, no session state; paths are mapped through the chroot functions the caller passes.
import { Code } from "../protocol/error-codes.js";
import { CreateFlags, OpCode, WatcherType } from "../protocol/opcodes.js";
import type { ACL, MultiOp, OpResult, Request, Response, Stat } from "../protocol/types.js";
import { OPEN_ACL_UNSAFE } from "./acl.js";
import type { CreateMode, CreateOptions, Data, ReadOp, ReadResult } from "./client-options.js";
import { validatePath } from "./connect-string.js";
import {
  InvalidArgumentError,
  MarshallingError,
  errorForCode,
  type TransactionResult,
  type ZkError,
} from "./errors.js";
import type { TransactionOp } from "./transaction.js";
import type { WatcherKind } from "./watches.js";

/** The largest TTL ZooKeeper takes (EphemeralType.TTL's 40-bit field). */
const ttlMsMax = 0xffffffffff;

export const emptyBytes = new Uint8Array(0);
const textEncoder = new TextEncoder();

/** Maps a client path (as the caller gives it) to the server's (chroot prepended), and back. */
export interface PathMapper {
  serverPath(clientPath: string): string;
  clientPath(serverPath: string): string;
}

export function toBytes(data: Data | undefined): Uint8Array | null {
  if (data === undefined) return emptyBytes;
  if (data === null || data instanceof Uint8Array) return data;
  if (typeof data === "string") return textEncoder.encode(data);
  throw new InvalidArgumentError(`data must be a Uint8Array, a string or null, not ${typeof data}`);
}

const createFlags: Record<CreateMode, number> = {
  persistent: CreateFlags.persistent,
  ephemeral: CreateFlags.ephemeral,
  "persistent-sequential": CreateFlags.persistentSequential,
  "ephemeral-sequential": CreateFlags.ephemeralSequential,
  container: CreateFlags.container,
  "persistent-ttl": CreateFlags.persistentWithTtl,
  "persistent-sequential-ttl": CreateFlags.persistentSequentialWithTtl,
};

/**
 * The WatcherType sent for a kind. ZooKeeper 3.8 knows only Children, Data and Any (Persistent and
 * PersistentRecursive, 4 and 5, came in 3.9 and 3.8 answers them MarshallingError), and its Java client
 * removes persistent watches with Any: so does this client.
 */
export function serverWatcherKind(kind: WatcherKind): WatcherKind {
  return kind === "persistent" || kind === "persistent-recursive" ? "any" : kind;
}

export const watcherTypes: Record<WatcherKind, number> = {
  children: WatcherType.children,
  data: WatcherType.data,
  any: WatcherType.any,
  persistent: WatcherType.persistent,
  "persistent-recursive": WatcherType.persistentRecursive,
};

/** A create request (create, create2, createContainer or createTTL, as the mode and `withStat` ask). */
export function createRequest(
  paths: PathMapper,
  path: string,
  data: Data | undefined,
  options: CreateOptions,
  withStat: boolean,
): Extract<Request, { type: "create" }> {
  const mode = options.mode ?? "persistent";
  const flags = createFlags[mode];
  if (flags === undefined) throw new InvalidArgumentError(`unknown create mode ${String(mode)}`);
  validatePath(path, mode.includes("sequential"));
  const isTtl = mode === "persistent-ttl" || mode === "persistent-sequential-ttl";
  let ttl = 0n;
  if (isTtl) {
    const ttlMs = options.ttlMs;
    if (ttlMs === undefined || !Number.isInteger(ttlMs) || ttlMs <= 0 || ttlMs > ttlMsMax)
      throw new InvalidArgumentError(`mode ${mode} needs ttlMs in [1, ${ttlMsMax}], not ${ttlMs}`);
    ttl = BigInt(ttlMs);
  } else if (options.ttlMs !== undefined) {
    throw new InvalidArgumentError(`ttlMs is only for the TTL modes, not ${mode}`);
  }
  const op =
    mode === "container"
      ? OpCode.createContainer
      : isTtl
        ? OpCode.createTTL
        : withStat
          ? OpCode.create2
          : OpCode.create;
  const acl = copyAcl(options.acl ?? OPEN_ACL_UNSAFE);
  return { type: "create", op, req: { path: paths.serverPath(path), data: toBytes(data), acl, flags, ttl } };
}

/** One transaction op as a multi sub-request. */
export function multiOp(paths: PathMapper, o: TransactionOp): MultiOp {
  switch (o.type) {
    case "create": {
      const req = createRequest(paths, o.path, o.data, o.options, false);
      return { type: "create", op: req.op, req: req.req };
    }
    case "delete":
      validatePath(o.path);
      return {
        type: "delete",
        op: OpCode.delete,
        req: { path: paths.serverPath(o.path), version: o.version },
      };
    case "setData":
      validatePath(o.path);
      return {
        type: "setData",
        op: OpCode.setData,
        req: { path: paths.serverPath(o.path), data: toBytes(o.data), version: o.version },
      };
    case "check":
      validatePath(o.path);
      return {
        type: "check",
        op: OpCode.check,
        req: { path: paths.serverPath(o.path), version: o.version },
      };
    default:
      throw new InvalidArgumentError(`unknown transaction op ${String((o as { type: unknown }).type)}`);
  }
}

/**
 * A multi reply as transaction results; throws the failing op's error (with `results` and `failedOpIndex`)
 * when the transaction failed, so `err.results[err.failedOpIndex].error === err`.
 */
export function transactionResults(
  paths: PathMapper,
  ops: readonly TransactionOp[],
  resp: Response,
): TransactionResult[] {
  if (resp.type !== "multi" || resp.results.length !== ops.length) throw unexpected(resp, undefined);
  const failedOpIndex = resp.results.findIndex((r) => r.type === "error" && r.err !== Code.ok);
  const results = resp.results.map((r, i) => transactionResult(paths, r, ops[i]!.path));
  if (failedOpIndex < 0) return results;
  const failed = results[failedOpIndex] as Extract<TransactionResult, { type: "error" }>;
  const error = failed.error ?? errorForCode(failed.code, ops[failedOpIndex]!.path);
  error.results = results;
  error.failedOpIndex = failedOpIndex;
  throw error;
}

function transactionResult(paths: PathMapper, r: OpResult, path: string): TransactionResult {
  switch (r.type) {
    case "create":
      return { type: "create", path: paths.clientPath(r.path), stat: r.stat };
    case "delete":
    case "check":
      return { type: r.type };
    case "setData":
      return { type: "setData", stat: r.stat };
    case "error":
      return { type: "error", code: r.err, error: r.err === Code.ok ? null : errorForCode(r.err, path) };
    default:
      throw new MarshallingError(Code.marshallingError, path, `unexpected ${r.type} result in a multi reply`);
  }
}

/** multiRead's sub-requests: getData and getChildren only. */
export function multiReadOps(paths: PathMapper, ops: readonly ReadOp[]): MultiOp[] {
  return ops.map((o) => {
    validatePath(o.path);
    const req = { path: paths.serverPath(o.path) };
    if (o.type === "getData") return { type: "getData", op: OpCode.getData, req };
    if (o.type === "getChildren") return { type: "getChildren", op: OpCode.getChildren, req };
    throw new InvalidArgumentError(`multiRead takes getData and getChildren, not ${String(o.type)}`);
  });
}

/** A multiRead reply: each op's own result or error. */
export function readResults(ops: readonly ReadOp[], resp: Response): ReadResult[] {
  if (resp.type !== "multi" || resp.results.length !== ops.length) throw unexpected(resp, undefined);
  return resp.results.map((r, i): ReadResult => {
    const path = ops[i]!.path;
    switch (r.type) {
      case "getData":
        return { type: "getData", data: r.data ?? emptyBytes, stat: r.stat };
      case "getChildren":
        return { type: "getChildren", children: r.children };
      case "error":
        return { type: "error", code: r.err, error: errorForCode(r.err, path) };
      default:
        throw unexpected(resp, path);
    }
  });
}

export function copyAcl(acl: readonly ACL[]): ACL[] {
  return acl.map((a) => ({ perms: a.perms, id: { scheme: a.id.scheme, id: a.id.id } }));
}

export function statOf(resp: Response, path: string): Stat {
  if (resp.type !== "stat") throw unexpected(resp, path);
  return resp.stat;
}

/** A reply of the wrong type for its request: the stream is not what the protocol says. */
export function unexpected(resp: Response | { type: string }, path: string | undefined): ZkError {
  return new MarshallingError(Code.marshallingError, path, `unexpected ${resp.type} reply`);
}
