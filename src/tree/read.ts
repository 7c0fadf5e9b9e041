// Reads as FinalRequestProcessor answers them: exists, getData, getChildren(2), getACL, getAllChildrenNumber,
// getEphemerals, multiRead, whoAmI and the watch requests, with ZooKeeper's ACL checks, so the server only routes.
// Pure: no I/O, no clock, no randomness.
import type {
  Id,
  OpResult,
  PathRequest,
  PathWatchRequest,
  Request,
  Response,
  Stat,
} from "../protocol/types.js";
import { OpCode, Perms } from "../protocol/opcodes.js";
import { Code } from "../protocol/error-codes.js";
import { checkACL, clientInfos, maskDigests } from "./acl.js";
import type { DataTree } from "./data-tree.js";
import type { WatcherId } from "./watch-registry.js";

export interface ReadAuth {
  sessionId: bigint;
  authInfo: readonly Id[];
  /** The super user's digest id; sessions holding {scheme:"super"} pass regardless. */
  superDigestId?: string | undefined;
}

export interface ReadResult {
  err: number;
  /** Present when err is ok (and for exists' Stat). */
  response?: Response;
}

/**
 * Answers a read against the tree as of now; `watcherId` is the connection watches are registered for.
 * Requests that are not reads answer MarshallingError (the server must not route them here).
 */
export function processRead(
  tree: DataTree,
  auth: ReadAuth,
  request: Request,
  watcherId: WatcherId,
): ReadResult {
  const ok = (response: Response): ReadResult => ({ err: Code.ok, response });
  switch (request.type) {
    case "exists": {
      const path = request.req.path;
      if (path.includes("\0")) return { err: Code.badArguments };
      // As ZooKeeper 3.8.0 (the reference we diff against): exists checks no ACL. 3.8.4 added a READ
      // check here when the node exists; adopt it together with the reference.
      const stat = tree.exists(path, request.req.watch ? watcherId : undefined);
      return stat === undefined ? { err: Code.noNode } : ok({ type: "stat", stat });
    }
    case "getData": {
      const { err, value } = getData(tree, auth, request.req, watcherId);
      return value === undefined ? { err } : ok({ type: "getData", ...value });
    }
    case "getChildren": {
      const { err, value } = getChildren(tree, auth, request.req, watcherId);
      if (value === undefined) return { err };
      if (request.op === OpCode.getChildren2) return ok({ type: "getChildren2", ...value });
      return ok({ type: "getChildren", children: value.children });
    }
    case "getACL": {
      const n = tree.getNode(request.req.path);
      if (n === undefined) return { err: Code.noNode };
      const err = checkACL(n.acl, Perms.READ | Perms.ADMIN, auth.authInfo, auth.superDigestId);
      if (err !== Code.ok) return { err };
      const r = tree.getACL(request.req.path)!;
      // Without ADMIN the digest hashes are masked ("user:x"), FinalRequestProcessor's getACL.
      const admin = checkACL(n.acl, Perms.ADMIN, auth.authInfo, auth.superDigestId) === Code.ok;
      return ok({ type: "getACL", acl: admin ? [...r.acl] : maskDigests(r.acl), stat: r.stat });
    }
    case "getAllChildrenNumber": {
      const r = withReadAccess(tree, auth, request.req);
      if (r !== Code.ok) return { err: r };
      return ok({ type: "getAllChildrenNumber", totalNumber: tree.getAllChildrenNumber(request.req.path) });
    }
    case "getEphemerals": {
      // No ACL check: a session lists its own ephemerals. A blank or "/" prefix means all of them.
      const prefix = request.req.path;
      const all = tree.getEphemerals(auth.sessionId);
      const trimmed = prefix.trim();
      const ephemerals = trimmed === "" || trimmed === "/" ? all : all.filter((p) => p.startsWith(prefix));
      return ok({ type: "getEphemerals", ephemerals });
    }
    case "multi": {
      // multiRead: each op answers on its own; an error is that op's result, not the request's.
      if (request.op !== OpCode.multiRead) return { err: Code.marshallingError };
      const results: OpResult[] = [];
      for (const op of request.ops) {
        if (op.type === "getData") {
          const { err, value } = getData(tree, auth, { path: op.req.path, watch: false }, watcherId);
          results.push(value === undefined ? { type: "error", err } : { type: "getData", ...value });
        } else if (op.type === "getChildren") {
          const { err, value } = getChildren(tree, auth, { path: op.req.path, watch: false }, watcherId);
          results.push(
            value === undefined ? { type: "error", err } : { type: "getChildren", children: value.children },
          );
        } else {
          return { err: Code.marshallingError }; // "Invalid type of readOp"
        }
      }
      return ok({ type: "multi", results });
    }
    case "whoAmI":
      return ok({ type: "whoAmI", clientInfo: clientInfos(auth.authInfo) });
    case "checkWatches": {
      const { path, type } = request.req;
      const err =
        request.op === OpCode.removeWatches
          ? tree.watches.remove(path, type, watcherId)
          : tree.watches.check(path, type, watcherId);
      return err === Code.ok ? ok({ type: "empty" }) : { err };
    }
    case "addWatch": {
      // 3.8 registers without an ACL check; events are filtered by READ at delivery (WatchDelivery.acl).
      const err = tree.addWatch(request.req.path, watcherId, request.req.mode);
      return err === Code.ok ? ok({ type: "empty" }) : { err };
    }
    default:
      return { err: Code.marshallingError };
  }
}

interface Got<T> {
  err: number;
  /** Present exactly when err is ok. */
  value?: T;
}

function getData(
  tree: DataTree,
  auth: ReadAuth,
  req: PathWatchRequest,
  watcherId: WatcherId,
): Got<{ data: Uint8Array | null; stat: Stat }> {
  const err = withReadAccess(tree, auth, req);
  if (err !== Code.ok) return { err };
  return { err, value: tree.getData(req.path, req.watch ? watcherId : undefined)! };
}

function getChildren(
  tree: DataTree,
  auth: ReadAuth,
  req: PathWatchRequest,
  watcherId: WatcherId,
): Got<{ children: string[]; stat: Stat }> {
  const err = withReadAccess(tree, auth, req);
  if (err !== Code.ok) return { err };
  return { err, value: tree.getChildren(req.path, req.watch ? watcherId : undefined)! };
}

/** NoNode, then READ on the node (handleGetDataRequest / handleGetChildrenRequest order). */
function withReadAccess(tree: DataTree, auth: ReadAuth, req: PathRequest): number {
  const n = tree.getNode(req.path);
  if (n === undefined) return Code.noNode;
  return checkACL(n.acl, Perms.READ, auth.authInfo, auth.superDigestId);
}
