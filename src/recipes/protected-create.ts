// protectedCreate(): a create that survives connection loss, finding its node afterwards by a unique name prefix.
import { randomUUID } from "node:crypto";
import {
  ConnectionLossError,
  NoNodeError,
  type CreateMode,
  type Data,
  type ZooKeeperClient,
} from "../client/index.js";
import { connectionRetriesMax, waitForConnection, type RetryOptions } from "./connection-retry.js";
import { ensurePath, joinPath } from "./znode-paths.js";

/** Curator's CreateBuilderImpl.PROTECTED_PREFIX. */
export const protectedPrefix = "_c_";

/** "_c_<uuid>-": the part of a protected name that identifies its creator. */
export function protectedId(): string {
  return `${protectedPrefix}${randomUUID()}-`;
}

/** A node name without its protected "_c_<uuid>-" prefix, if it has one (ZKPaths.getNodeFromPath's counterpart). */
export function stripProtectedPrefix(name: string): string {
  if (!name.startsWith(protectedPrefix)) return name;
  const dash = name.indexOf("-", protectedPrefix.length + 36);
  return dash < 0 ? name : name.slice(dash + 1);
}

export interface ProtectedCreateOptions extends RetryOptions {
  mode?: CreateMode;
  /** Create the parent (and its ancestors) as persistent nodes when missing. Default true. */
  createParents?: boolean;
  /** The "_c_<uuid>-" prefix to use, when the caller needs to know it before the create resolves. */
  id?: string;
}

/**
 * Creates `parent/_c_<uuid>-<name>` (CreateBuilder.withProtection). A ConnectionLossError leaves it unknown
 * whether the create happened; after reconnecting this lists `parent` and adopts the child carrying the unique
 * prefix, and creates again only when there is none. Without the prefix a lost reply of an ephemeral-sequential
 * create leaves an orphan node that nobody owns and that blocks a lock queue until the session ends.
 * Resolves with the created path.
 */
export async function protectedCreate(
  zk: ZooKeeperClient,
  parent: string,
  name: string,
  data: Data,
  options: ProtectedCreateOptions = {},
): Promise<string> {
  const id = options.id ?? protectedId();
  const path = joinPath(parent, `${id}${name}`);
  const mode = options.mode ?? "ephemeral-sequential";
  let mayExist = false;
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      if (mayExist) {
        const found = await findProtected(zk, parent, id);
        if (found !== undefined) return found;
      }
      return await zk.create(path, data, { mode });
    } catch (err) {
      if (err instanceof NoNodeError && options.createParents !== false && attempt < connectionRetriesMax) {
        await ensurePath(zk, parent, options);
        continue;
      }
      if (!(err instanceof ConnectionLossError) || attempt >= connectionRetriesMax) throw err;
      mayExist = true;
      await waitForConnection(zk, options);
    }
  }
}

/** The path of `parent`'s child whose name starts with `id`, or undefined (findProtectedNodeInForeground). */
export async function findProtected(
  zk: ZooKeeperClient,
  parent: string,
  id: string,
): Promise<string | undefined> {
  let children: string[];
  try {
    children = await zk.getChildren(parent);
  } catch (err) {
    if (err instanceof NoNodeError) return undefined;
    throw err;
  }
  const name = children.find((c) => c.startsWith(id));
  return name === undefined ? undefined : joinPath(parent, name);
}
