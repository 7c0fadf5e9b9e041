// Valid requests of every opcode, for round-trip tests and as seeds for the decoder fuzzer.
import { OpCode } from "../../src/protocol/opcodes.js";
import type { ACL, Request, Stat } from "../../src/protocol/types.js";

export const openAcl: ACL[] = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];

export const sampleStat: Stat = {
  czxid: 0x100000002n,
  mzxid: 0x100000003n,
  ctime: 1_700_000_000_000n,
  mtime: 1_700_000_000_123n,
  version: 1,
  cversion: 2,
  aversion: 0,
  ephemeralOwner: 0x0100000b24270000n,
  dataLength: 5,
  numChildren: 0,
  pzxid: 0x100000004n,
};

const data = new Uint8Array([1, 2, 3, 0xff]);

/** One request per opcode (and per encoding variant), each with its RequestHeader type. */
export function sampleRequests(): Request[] {
  return [
    { type: "create", op: OpCode.create, req: { path: "/a", data, acl: openAcl, flags: 0, ttl: 0n } },
    { type: "create", op: OpCode.create2, req: { path: "/a-", data: null, acl: openAcl, flags: 3, ttl: 0n } },
    { type: "create", op: OpCode.createContainer, req: { path: "/c", data, acl: [], flags: 4, ttl: 0n } },
    { type: "create", op: OpCode.createTTL, req: { path: "/t", data, acl: openAcl, flags: 5, ttl: 60_000n } },
    { type: "delete", op: OpCode.delete, req: { path: "/a", version: -1 } },
    { type: "delete", op: OpCode.deleteContainer, req: { path: "/c", version: -1 } },
    { type: "exists", op: OpCode.exists, req: { path: "/a", watch: true } },
    { type: "getData", op: OpCode.getData, req: { path: "/a", watch: false } },
    { type: "setData", op: OpCode.setData, req: { path: "/a", data, version: 3 } },
    { type: "getACL", op: OpCode.getACL, req: { path: "/a" } },
    { type: "setACL", op: OpCode.setACL, req: { path: "/a", acl: openAcl, version: 0 } },
    { type: "getChildren", op: OpCode.getChildren, req: { path: "/", watch: true } },
    { type: "getChildren", op: OpCode.getChildren2, req: { path: "/", watch: false } },
    { type: "sync", op: OpCode.sync, req: { path: "/" } },
    { type: "ping", op: OpCode.ping },
    {
      type: "multi",
      op: OpCode.multi,
      ops: [
        { type: "create", op: OpCode.create, req: { path: "/m", data, acl: openAcl, flags: 0, ttl: 0n } },
        {
          type: "create",
          op: OpCode.create2,
          req: { path: "/m2", data: null, acl: openAcl, flags: 1, ttl: 0n },
        },
        { type: "create", op: OpCode.createTTL, req: { path: "/mt", data, acl: openAcl, flags: 5, ttl: 9n } },
        { type: "delete", op: OpCode.delete, req: { path: "/m", version: 0 } },
        { type: "setData", op: OpCode.setData, req: { path: "/m2", data, version: -1 } },
        { type: "check", op: OpCode.check, req: { path: "/", version: 4 } },
      ],
    },
    {
      type: "multi",
      op: OpCode.multiRead,
      ops: [
        { type: "getData", op: OpCode.getData, req: { path: "/a" } },
        { type: "getChildren", op: OpCode.getChildren, req: { path: "/" } },
      ],
    },
    { type: "multi", op: OpCode.multi, ops: [] },
    {
      type: "reconfig",
      op: OpCode.reconfig,
      req: {
        joiningServers: "server.4=h:2888:3888",
        leavingServers: null,
        newMembers: null,
        curConfigId: -1n,
      },
    },
    { type: "checkWatches", op: OpCode.checkWatches, req: { path: "/a", type: 3 } },
    { type: "checkWatches", op: OpCode.removeWatches, req: { path: "/a", type: 1 } },
    {
      type: "auth",
      op: OpCode.auth,
      req: { type: 0, scheme: "digest", auth: new TextEncoder().encode("u:p") },
    },
    {
      type: "setWatches",
      op: OpCode.setWatches,
      req: {
        relativeZxid: 7n,
        dataWatches: ["/a"],
        existWatches: [],
        childWatches: ["/", "/b"],
        persistentWatches: [],
        persistentRecursiveWatches: [],
      },
    },
    {
      type: "setWatches",
      op: OpCode.setWatches2,
      req: {
        relativeZxid: 7n,
        dataWatches: [],
        existWatches: ["/x"],
        childWatches: [],
        persistentWatches: ["/p"],
        persistentRecursiveWatches: ["/r", "/r2"],
      },
    },
    { type: "sasl", op: OpCode.sasl, token: new Uint8Array([1, 2, 3]) },
    { type: "getEphemerals", op: OpCode.getEphemerals, req: { path: "/" } },
    { type: "getAllChildrenNumber", op: OpCode.getAllChildrenNumber, req: { path: "/a" } },
    { type: "addWatch", op: OpCode.addWatch, req: { path: "/a", mode: 1 } },
    { type: "whoAmI", op: OpCode.whoAmI },
    { type: "closeSession", op: OpCode.closeSession },
  ];
}
