// Shared by the offline tools (logdump, snapdump, cleanup): txn and stat formatting, errors, version-2 lookup.
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { OpCode } from "../protocol/opcodes.js";
import type { ACL, Txn, TxnBody } from "../protocol/types.js";
import { versionDirName } from "../storage/format.js";

/** Exit codes shared by the tools: 0 fine, 1 bad data found (or refused), 2 bad usage. */
export const exitOk = 0;
export const exitBadData = 1;
export const exitUsage = 2;

export function hex(n: bigint | number): string {
  const v = typeof n === "bigint" ? BigInt.asUintN(64, n) : BigInt.asUintN(32, BigInt(n));
  return "0x" + v.toString(16);
}

/** ZooKeeper's Request.op2String names for the txn types that are logged. */
export function txnTypeName(type: number): string {
  for (const [name, code] of Object.entries(OpCode)) if (code === type) return name;
  return `unknown(${type})`;
}

/** A directory holding `version-2/` means that subdirectory; any other directory is taken as is. */
export async function resolveVersionDir(dir: string): Promise<string> {
  try {
    if ((await stat(join(dir, versionDirName))).isDirectory()) return join(dir, versionDirName);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  return dir;
}

function dataText(d: Uint8Array | null): string {
  return d === null ? "null" : `${d.length}B`;
}

function aclText(acl: readonly ACL[]): string {
  return "[" + acl.map((a) => `${a.id.scheme}:${a.id.id}:${a.perms}`).join(",") + "]";
}

/** The body of one txn on one line, after its header. */
export function describeBody(body: TxnBody): string {
  switch (body.type) {
    case "create":
      return `${body.path} kind=${body.kind} data=${dataText(body.data)} acl=${aclText(body.acl)} parentCVersion=${body.parentCVersion}${body.kind === "ttl" ? ` ttl=${body.ttl}` : ""}`;
    case "delete":
      return body.path;
    case "setData":
      return `${body.path} data=${dataText(body.data)} version=${body.version}`;
    case "setACL":
      return `${body.path} acl=${aclText(body.acl)} version=${body.version}`;
    case "check":
      return `${body.path} version=${body.version}`;
    case "createSession":
      return `timeOut=${body.timeOut}`;
    case "closeSession":
      return `paths2Delete=[${body.paths2Delete.join(",")}]`;
    case "error":
      return `err=${body.err}`;
    case "multi":
      return "[" + body.txns.map((t) => `${t.type} ${describeBody(t)}`).join("; ") + "]";
  }
}

/** `time session cxid zxid type details`, as zkTxnLogToolkit prints (time in ISO 8601, UTC). */
export function describeTxn(txn: Txn): string {
  const h = txn.header;
  const time = new Date(Number(h.time)).toISOString();
  return `${time} session ${hex(h.clientId)} cxid ${hex(h.cxid)} zxid ${hex(h.zxid)} ${txnTypeName(h.type)} ${describeBody(txn.body)}`;
}

/** JSON-friendly: bigints as hex strings (or decimal for times), data as base64. */
export function bodyJson(body: TxnBody): Record<string, unknown> {
  switch (body.type) {
    case "create":
      return {
        path: body.path,
        kind: body.kind,
        data: body.data === null ? null : Buffer.from(body.data).toString("base64"),
        acl: body.acl,
        parentCVersion: body.parentCVersion,
        ephemeralOwner: hex(body.ephemeralOwner),
        ttl: Number(body.ttl),
      };
    case "setData":
      return {
        path: body.path,
        data: body.data === null ? null : Buffer.from(body.data).toString("base64"),
        version: body.version,
      };
    case "multi":
      return { txns: body.txns.map((t) => ({ type: t.type, ...bodyJson(t) })) };
    default: {
      const { type: _type, ...rest } = body;
      return rest;
    }
  }
}

export function txnJson(txn: Txn, file: string, offset: number): Record<string, unknown> {
  const h = txn.header;
  return {
    file,
    offset,
    time: Number(h.time),
    session: hex(h.clientId),
    cxid: h.cxid,
    zxid: hex(h.zxid),
    type: txnTypeName(h.type),
    ...bodyJson(txn.body),
  };
}

/** A zxid given on the command line: hex with 0x, or decimal. Null if it is neither. */
export function parseZxidArg(s: string): bigint | null {
  if (!/^(0x[0-9a-fA-F]{1,16}|[0-9]{1,20})$/.test(s)) return null;
  const z = BigInt(s);
  return z < 1n << 64n ? z : null;
}
