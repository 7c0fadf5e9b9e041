// Output formatting for `corral shell`, byte for byte as zkCli 3.8 prints it (StatPrinter, LsCommand,
// GetAclCommand, CliWrapperException, WatchedEvent.toString). Pure: no I/O; the time zone is a parameter.
import type { ACL, Stat } from "../protocol/types.js";
import { Perms } from "../protocol/opcodes.js";
import { ZkError, type WatchEvent, type ClientState } from "../client/index.js";
import { Code } from "../protocol/error-codes.js";
import { commandNames, commandUsages } from "./shell-commands.js";

/** Long.toHexString: a negative long prints as its 64-bit two's complement. */
export function javaHex(n: bigint): string {
  return (n < 0n ? n + (1n << 64n) : n).toString(16);
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();

/**
 * java.util.Date.toString(): "EEE MMM dd HH:mm:ss zzz yyyy", e.g. "Thu Nov 26 07:31:03 UTC 2026", in `timeZone`
 * (default: this process's, as the JVM's default zone). Zone names come from Intl, so zones other than UTC may
 * be spelled differently from Java's ("GMT+1" where Java says "CET").
 */
export function javaDate(ms: number, timeZone?: string): string {
  const key = timeZone ?? "";
  let format = dateFormats.get(key);
  if (format === undefined) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      weekday: "short",
      month: "short",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      year: "numeric",
      hourCycle: "h23",
      timeZoneName: "short",
    });
    dateFormats.set(key, format);
  }
  const parts = new Map(format.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  const get = (t: Intl.DateTimeFormatPartTypes): string => parts.get(t) ?? "";
  return `${get("weekday")} ${get("month")} ${get("day")} ${get("hour")}:${get("minute")}:${get("second")} ${get("timeZoneName")} ${get("year")}`;
}

/** StatPrinter.print: eleven "name = value" lines, each ending in "\n". */
export function formatStat(stat: Stat, timeZone?: string): string {
  return [
    `cZxid = 0x${javaHex(stat.czxid)}`,
    `ctime = ${javaDate(Number(stat.ctime), timeZone)}`,
    `mZxid = 0x${javaHex(stat.mzxid)}`,
    `mtime = ${javaDate(Number(stat.mtime), timeZone)}`,
    `pZxid = 0x${javaHex(stat.pzxid)}`,
    `cversion = ${stat.cversion}`,
    `dataVersion = ${stat.version}`,
    `aclVersion = ${stat.aversion}`,
    `ephemeralOwner = 0x${javaHex(stat.ephemeralOwner)}`,
    `dataLength = ${stat.dataLength}`,
    `numChildren = ${stat.numChildren}`,
    "",
  ].join("\n");
}

/** LsCommand.printChildren: sorted (Java String order, by UTF-16 code unit), "[a, b]\n". */
export function formatChildren(children: readonly string[]): string {
  return `[${[...children].sort(compareJavaStrings).join(", ")}]\n`;
}

/** String.compareTo: UTF-16 code units, which is also JavaScript's default sort. */
export function compareJavaStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** AbstractList.toString: "[a, b]" in list order. */
export function formatJavaList(items: readonly string[]): string {
  return `[${items.join(", ")}]\n`;
}

/** GetCommand: the data as UTF-8 (malformed bytes become U+FFFD), "null" for null data, then "\n". */
export function formatData(data: Uint8Array | null): string {
  return `${data === null ? "null" : new TextDecoder().decode(data)}\n`;
}

/** ZKUtil.getPermString: "cdrwa" order. */
export function permString(perms: number): string {
  let s = "";
  if (perms & Perms.CREATE) s += "c";
  if (perms & Perms.DELETE) s += "d";
  if (perms & Perms.READ) s += "r";
  if (perms & Perms.WRITE) s += "w";
  if (perms & Perms.ADMIN) s += "a";
  return s;
}

/** GetAclCommand: the jute Id's toString ("'world,'anyone" and a newline), ": ", the perms. */
export function formatAcl(acl: readonly ACL[]): string {
  return acl.map((a) => `'${a.id.scheme},'${a.id.id}\n: ${permString(a.perms)}\n`).join("");
}

/**
 * AclParser.parse: "scheme:id:perms[,...]"; an entry without two colons is skipped with a warning, as is an
 * unknown perm letter.
 */
export function parseAcl(text: string): { acl: ACL[]; warnings: string[] } {
  const acl: ACL[] = [];
  const warnings: string[] = [];
  for (const a of text.split(",")) {
    const first = a.indexOf(":");
    const last = a.lastIndexOf(":");
    if (first === -1 || first === last) {
      warnings.push(`${a} does not have the form scheme:id:perm`);
      continue;
    }
    let perms = 0;
    for (const c of a.slice(last + 1)) {
      const bit = { r: Perms.READ, w: Perms.WRITE, c: Perms.CREATE, d: Perms.DELETE, a: Perms.ADMIN }[c];
      if (bit === undefined) warnings.push(`Unknown perm type: ${c}`);
      else perms |= bit;
    }
    acl.push({ perms, id: { scheme: a.slice(0, first), id: a.slice(first + 1, last) } });
  }
  return { acl, warnings };
}

/** CliWrapperException.getMessage: zkCli's words for the common codes; KeeperException's message otherwise. */
export function errorMessage(err: unknown): string {
  if (!(err instanceof ZkError)) return err instanceof Error ? err.message : String(err);
  const path = err.path ?? "null";
  switch (err.code) {
    case Code.noNode:
      return `Node does not exist: ${path}`;
    case Code.noChildrenForEphemerals:
      return `Ephemerals cannot have children: ${path}`;
    case Code.nodeExists:
      return `Node already exists: ${path}`;
    case Code.notEmpty:
      return `Node not empty: ${path}`;
    case Code.notReadOnly:
      return `Not a read-only call: ${path}`;
    case Code.invalidACL:
      return `Acl is not valid : ${path}`;
    case Code.noAuth:
      return `Insufficient permission : ${path}`;
    case Code.badArguments:
      return `Arguments are not valid : ${path}`;
    case Code.badVersion:
      return `version No is not valid : ${path}`;
    case Code.quotaExceeded:
      return `Quota has exceeded : ${path}`;
    default:
      return err.message;
  }
}

const eventTypeNames: Record<WatchEvent["type"], string> = {
  nodeCreated: "NodeCreated",
  nodeDeleted: "NodeDeleted",
  nodeDataChanged: "NodeDataChanged",
  nodeChildrenChanged: "NodeChildrenChanged",
  dataWatchRemoved: "DataWatchRemoved",
  childWatchRemoved: "ChildWatchRemoved",
  persistentWatchRemoved: "PersistentWatchRemoved",
};

/** MyWatcher.process: "\nWATCHER::\n\nWatchedEvent state:SyncConnected type:NodeDataChanged path:/a\n". */
export function formatWatchEvent(event: WatchEvent): string {
  return `\nWATCHER::\n\nWatchedEvent state:SyncConnected type:${eventTypeNames[event.type]} path:${event.path}\n`;
}

const keeperStates: Partial<Record<ClientState, string>> = {
  connected: "SyncConnected",
  disconnected: "Disconnected",
  expired: "Expired",
  "auth-failed": "AuthFailed",
  closed: "Closed",
};

/** A session state change as zkCli's watcher prints it (EventType None), or undefined for "connecting". */
export function formatStateEvent(state: ClientState): string | undefined {
  const name = keeperStates[state];
  return name === undefined ? undefined : `\nWATCHER::\n\nWatchedEvent state:${name} type:None path:null\n`;
}

/** ZooKeeper.States names for the prompt: "[zk: 127.0.0.1:2181(CONNECTED) 0] ". */
export function promptState(state: ClientState | undefined): string {
  switch (state) {
    case "connected":
      return "CONNECTED";
    case "connecting":
    case "disconnected":
      return "CONNECTING";
    case "auth-failed":
      return "AUTH_FAILED";
    case undefined:
      return "NOT_CONNECTED";
    default:
      return "CLOSED";
  }
}

/** ZooKeeperMain.usage(), with `corral shell` in place of the Java class's first line. */
export function usageText(): string {
  const lines = ["corral shell [-server host:port[,host:port...][/chroot]] [-timeout ms] [-r] [cmd args]"];
  for (const name of commandNames) lines.push(`\t${name} ${commandUsages.get(name)}`);
  return lines.join("\n") + "\n";
}
