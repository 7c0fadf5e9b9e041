// Path helpers the recipes share: joining, creating parents, and ordering sequential names. No state.
import { NodeExistsError, NoNodeError, type ZooKeeperClient } from "../client/index.js";
import { retryOnConnectionLoss, type RetryOptions } from "./connection-retry.js";

/** "/a" + "b" → "/a/b"; "/" + "b" → "/b". */
export function joinPath(parent: string, child: string): string {
  return parent === "/" ? `/${child}` : `${parent}/${child}`;
}

/** "/a/b" → "b". */
export function nodeName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** "/a/b" → "/a"; "/a" → "/". */
export function parentPath(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash <= 0 ? "/" : path.slice(0, slash);
}

/** The 10-digit counter ZooKeeper appends to a sequential node's name (%010d, negative once it wraps). */
const sequenceDigits = 10;

/**
 * The sequence suffix of a sequential node's name, for ordering (StandardLockInternalsDriver.fixForSorting
 * sorts on what follows the lock name; the suffix is that, and it ignores the protected "_c_<uuid>-" prefix).
 */
export function sequenceOf(name: string): number {
  const suffix = name.slice(-sequenceDigits);
  const n = Number.parseInt(suffix, 10);
  return Number.isNaN(n) ? Number.MAX_SAFE_INTEGER : n;
}

/** Names sorted by sequence suffix, ties (never expected) by name, so every client agrees on the order. */
export function sortBySequence(names: readonly string[]): string[] {
  return [...names].sort((a, b) => sequenceOf(a) - sequenceOf(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Creates `path` and any missing ancestors as empty persistent nodes (ZKPaths.mkdirs); a node that exists
 * already is fine, whoever made it. Retries through connection loss.
 */
export async function ensurePath(
  zk: ZooKeeperClient,
  path: string,
  options: RetryOptions = {},
): Promise<void> {
  if (path === "/") return;
  const exists = await retryOnConnectionLoss(zk, () => zk.exists(path), options);
  if (exists !== null) return;
  const parts = path.split("/").filter((p) => p.length > 0);
  let current = "";
  for (const part of parts) {
    current += `/${part}`;
    try {
      await retryOnConnectionLoss(zk, () => zk.create(current), options);
    } catch (err) {
      if (!(err instanceof NodeExistsError)) throw err;
    }
  }
}

/** Runs `op`; on NoNodeError creates `parent` (and its ancestors) and runs it once more. */
export async function withParents<T>(
  zk: ZooKeeperClient,
  parent: string,
  op: () => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (!(err instanceof NoNodeError)) throw err;
    await ensurePath(zk, parent, options);
    return op();
  }
}
