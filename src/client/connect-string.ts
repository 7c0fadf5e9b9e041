// Connect-string parsing (ConnectStringParser), path validation (PathUtils.validatePath) and chroot mapping.
import { InvalidConnectStringError, InvalidPathError } from "./errors.js";

export const defaultPort = 2181;

export interface HostPort {
  host: string;
  port: number;
}

export interface ConnectString {
  hosts: HostPort[];
  /** The chroot without a trailing slash ("/app"), or "" for none. */
  chroot: string;
}

/**
 * Parses "host:port,host:port/chroot" as ConnectStringParser does: the chroot starts at the first "/", a host
 * without a port gets 2181, an IPv6 address is written in brackets ("[::1]:2181"). A chroot of "/" is none.
 */
export function parseConnectString(connectString: string): ConnectString {
  const slash = connectString.indexOf("/");
  const hostList = slash < 0 ? connectString : connectString.slice(0, slash);
  let chroot = slash < 0 ? "" : connectString.slice(slash);
  if (chroot === "/") chroot = "";
  if (chroot !== "") {
    try {
      validatePath(chroot);
    } catch (err) {
      throw new InvalidConnectStringError(connectString, `bad chroot: ${(err as Error).message}`);
    }
  }
  const hosts: HostPort[] = [];
  for (const raw of hostList.split(",")) {
    const part = raw.trim();
    if (part === "") continue;
    hosts.push(parseHostPort(connectString, part));
  }
  if (hosts.length === 0) throw new InvalidConnectStringError(connectString, "no host");
  return { hosts, chroot };
}

function parseHostPort(connectString: string, part: string): HostPort {
  let host: string;
  let portText: string | undefined;
  if (part.startsWith("[")) {
    const close = part.indexOf("]");
    if (close < 0) throw new InvalidConnectStringError(connectString, `unclosed "[" in ${part}`);
    host = part.slice(1, close);
    const rest = part.slice(close + 1);
    if (rest !== "" && !rest.startsWith(":"))
      throw new InvalidConnectStringError(connectString, `junk after "]" in ${part}`);
    portText = rest === "" ? undefined : rest.slice(1);
  } else {
    const colon = part.lastIndexOf(":");
    if (colon >= 0 && part.indexOf(":") !== colon)
      throw new InvalidConnectStringError(connectString, `IPv6 address ${part} must be in brackets`);
    host = colon < 0 ? part : part.slice(0, colon);
    portText = colon < 0 ? undefined : part.slice(colon + 1);
  }
  if (host === "") throw new InvalidConnectStringError(connectString, `empty host in ${part}`);
  let port = defaultPort;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText))
      throw new InvalidConnectStringError(connectString, `bad port in ${part}`);
    port = Number(portText);
    if (port < 1 || port > 65535)
      throw new InvalidConnectStringError(connectString, `port ${port} out of range in ${part}`);
  }
  return { host, port };
}

/**
 * Throws InvalidPathError unless `path` is a valid znode path (PathUtils.validatePath): absolute, no empty,
 * "." or ".." component, no trailing "/" (allowed for a sequential create, whose name the server completes),
 * no control characters. Unlike ZooKeeper's Java client, surrogates (characters outside the BMP) are left to
 * the server: ZooKeeper refuses them with BadArguments, a server that takes them is not second-guessed.
 */
export function validatePath(path: string, sequential = false): void {
  if (typeof path !== "string" || path.length === 0) throw new InvalidPathError(String(path), "empty");
  if (path[0] !== "/") throw new InvalidPathError(path, "must start with /");
  if (path.length === 1) return;
  if (path.endsWith("/") && !sequential) throw new InvalidPathError(path, "must not end with /");
  // The names between slashes, scanned in place (a split would allocate an array and a string per name).
  let start = 1;
  for (let i = 1; i <= path.length; i++) {
    if (i < path.length && path.charCodeAt(i) !== 0x2f) continue;
    const len = i - start;
    if (len === 0 && !(sequential && i === path.length)) throw new InvalidPathError(path, "empty node name");
    if (len <= 2 && len > 0 && path.charCodeAt(start) === 0x2e && path.charCodeAt(i - 1) === 0x2e)
      throw new InvalidPathError(path, `relative name ${path.slice(start, i)}`);
    start = i + 1;
  }
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 0) throw new InvalidPathError(path, `null character at ${i}`);
    if (
      (c > 0 && c <= 0x1f) ||
      (c >= 0x7f && c <= 0x9f) ||
      (c >= 0xfff0 && c <= 0xffff) ||
      (c >= 0xe000 && c <= 0xf8ff)
    )
      throw new InvalidPathError(path, `invalid character \\u${c.toString(16).padStart(4, "0")} at ${i}`);
  }
}

/** The server path for a client path: the chroot prepended ("/" under "/app" is "/app"). */
export function prependChroot(chroot: string, clientPath: string): string {
  if (chroot === "") return clientPath;
  return clientPath === "/" ? chroot : chroot + clientPath;
}

/** The client path for a server path: the chroot removed; a path outside the chroot is returned unchanged. */
export function stripChroot(chroot: string, serverPath: string): string {
  if (chroot === "") return serverPath;
  if (serverPath === chroot) return "/";
  if (serverPath.startsWith(chroot + "/")) return serverPath.slice(chroot.length);
  return serverPath;
}

/** A copy of `hosts` in random order (Fisher–Yates), so clients of one ensemble spread over its servers. */
export function shuffleHosts(hosts: readonly HostPort[], random: () => number = Math.random): HostPort[] {
  const out = hosts.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
