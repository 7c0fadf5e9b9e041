// ZooKeeper path rules (PathUtils.validatePath) and path arithmetic for the data tree.
// Pure: no I/O, no clock, no randomness.
import { Code } from "../protocol/error-codes.js";

export const rootPath = "/";
/** Quotas.procZookeeper, Quotas.quotaZookeeper, ZooDefs.CONFIG_NODE: the nodes every tree starts with. */
export const procZookeeper = "/zookeeper";
export const quotaZookeeper = "/zookeeper/quota";
export const configZookeeper = "/zookeeper/config";

/**
 * Why `path` is not a valid znode path, in PathUtils.validatePath's words; null when it is valid.
 * Works on UTF-16 code units exactly as Java's char[] loop does, so a character outside the BMP (a surrogate
 * pair, e.g. an emoji) is "invalid character", as in ZooKeeper.
 */
export function pathProblem(path: string): string | null {
  if (path.length === 0) return "Path length must be > 0";
  if (path.charCodeAt(0) !== 0x2f) return "Path must start with / character";
  if (path.length === 1) return null; // the root
  if (path.charCodeAt(path.length - 1) === 0x2f) return "Path must not end with / character";
  let reason: string | null = null;
  let lastc = 0x2f;
  for (let i = 1; i < path.length; lastc = path.charCodeAt(i), i++) {
    const c = path.charCodeAt(i);
    const nextIsEndOrSlash = i + 1 === path.length || path.charCodeAt(i + 1) === 0x2f;
    if (c === 0) {
      reason = `null character not allowed @${i}`;
      break;
    } else if (c === 0x2f && lastc === 0x2f) {
      reason = `empty node name specified @${i}`;
      break;
    } else if (c === 0x2e && lastc === 0x2e) {
      if (path.charCodeAt(i - 2) === 0x2f && nextIsEndOrSlash) {
        reason = `relative paths not allowed @${i}`;
        break;
      }
    } else if (c === 0x2e) {
      if (path.charCodeAt(i - 1) === 0x2f && nextIsEndOrSlash) {
        reason = `relative paths not allowed @${i}`;
        break;
      }
    } else if (
      (c > 0x0000 && c <= 0x001f) ||
      (c >= 0x007f && c <= 0x009f) ||
      (c >= 0xd800 && c <= 0xf8ff) ||
      (c >= 0xfff0 && c <= 0xffff)
    ) {
      reason = `invalid character @${i}`;
      break;
    }
  }
  return reason === null ? null : `Invalid path string "${path}" caused by ${reason}`;
}

/**
 * PathUtils.validatePath(path, isSequential): Code.ok, or Code.badArguments as the server answers
 * (PrepRequestProcessor.validatePath). A sequential path is checked with a digit appended, as ZooKeeper does.
 */
export function validatePath(path: string, isSequential = false): number {
  return pathProblem(isSequential ? path + "1" : path) === null ? Code.ok : Code.badArguments;
}

/** The parent of a path ("/a/b" → "/a", "/a" → "/"); ZooKeeper's substring(0, lastSlash) with "" read as "/". */
export function parentOf(path: string): string {
  const lastSlash = path.lastIndexOf("/");
  return lastSlash <= 0 ? rootPath : path.substring(0, lastSlash);
}

/** The last name of a path ("/a/b" → "b"). */
export function childNameOf(path: string): string {
  return path.substring(path.lastIndexOf("/") + 1);
}

export function joinPath(parent: string, child: string): string {
  return parent === rootPath ? rootPath + child : parent + "/" + child;
}

/** DataTree.isSpecialPath: nodes a client may never delete. */
export function isSpecialPath(path: string): boolean {
  return path === rootPath || path === procZookeeper || path === quotaZookeeper || path === configZookeeper;
}

/**
 * Java's String.format("%010d", n) for a 32-bit int: zero-padded to width 10, the sign counted in the width
 * (-5 → "-000000005", -2147483648 → "-2147483648").
 */
export function formatSequence(n: number): string {
  const v = n | 0;
  if (v < 0) return "-" + String(-v).padStart(9, "0");
  return String(v).padStart(10, "0");
}
