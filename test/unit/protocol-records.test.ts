// Client-protocol records: byte vectors (some captured from kazoo talking to Apache ZooKeeper 3.8) and round-trips.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DecodeError } from "../../src/base/errors.js";
import { JuteReader } from "../../src/protocol/jute-reader.js";
import { JuteWriter } from "../../src/protocol/jute-writer.js";
import { OpCode } from "../../src/protocol/opcodes.js";
import {
  decodeConnectRequest,
  decodeConnectResponse,
  decodeReplyHeader,
  decodeRequest,
  decodeRequestHeader,
  decodeResponse,
  decodeStat,
  decodeWatcherEvent,
  encodeConnectRequest,
  encodeConnectResponse,
  encodeReplyHeader,
  encodeRequest,
  encodeResponse,
  encodeStat,
  encodeWatcherEvent,
} from "../../src/protocol/records.js";
import type { ConnectRequest, ReplyHeader, Request, Response } from "../../src/protocol/types.js";
import { UnknownOpCodeError } from "../../src/protocol/unknown-opcode-error.js";
import { openAcl, sampleRequests, sampleStat } from "../fuzz/request-samples.js";

const hex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s+/g, ""), "hex"));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** A frame's body (its 4-byte prefix checked and dropped). */
function body(frame: Uint8Array): JuteReader {
  assert.equal(new DataView(frame.buffer, frame.byteOffset).getInt32(0), frame.length - 4);
  return new JuteReader(frame, 4);
}

function framed(write: (w: JuteWriter) => void): string {
  const w = JuteWriter.frame(16);
  write(w);
  return toHex(w.finishFrame());
}

// Captured 2025-11-26 with a throwaway TCP proxy between kazoo (python3-kazoo, Debian) and Apache ZooKeeper
// 3.8.0 (ZooKeeperServerMain from /usr/share/java/zookeeper.jar). Each is one whole frame, length prefix first.
const kazoo = {
  connectRequest:
    "0000002d 00000000 0000000000000000 00002710 0000000000000000 00000010 00000000000000000000000000000000 00",
  connectResponse: "00000025 00000000 00002710 0100000b24270000 00000010 0b56d7993cb6b6a0614bd644e5860508 00",
  createRequest:
    "00000038 00000001 00000001 00000007 2f636f7272616c 00000002 6869 00000001 0000001f 00000005 776f726c64" +
    " 00000006 616e796f6e65 00000000",
  createReply: "0000001b 00000001 0000000000000002 00000000 00000007 2f636f7272616c",
  getDataRequest: "00000014 00000002 00000004 00000007 2f636f7272616c 00",
  getDataReply:
    "0000005a 00000002 0000000000000002 00000000 00000002 6869 0000000000000002 0000000000000002 000001a216ce7cd4" +
    " 000001a216ce7cd4 00000000 00000000 00000000 0000000000000000 00000002 00000000 0000000000000002",
  multiRequest:
    "00000063 00000003 0000000e 00000001 00 ffffffff 00000009 2f636f7272616c2f61 00000000 00000001 0000001f" +
    " 00000005 776f726c64 00000006 616e796f6e65 00000000 00000002 00 ffffffff 00000008 2f6d697373696e67 ffffffff" +
    " ffffffff 01 ffffffff",
  multiReplyWithError:
    "00000033 00000003 0000000000000003 00000000 ffffffff 00 00000000 00000000 ffffffff 00 ffffff9b ffffff9b" +
    " ffffffff 01 ffffffff",
};

test("kazoo's ConnectRequest decodes to protocol 0, timeout 10000, no session and readOnly false", () => {
  const c = decodeConnectRequest(body(hex(kazoo.connectRequest)));
  assert.deepEqual(c, {
    protocolVersion: 0,
    lastZxidSeen: 0n,
    timeOut: 10000,
    sessionId: 0n,
    passwd: new Uint8Array(16),
    readOnly: false,
  });
  assert.equal(
    framed((w) => encodeConnectRequest(w, c)),
    toHex(hex(kazoo.connectRequest)),
  );
});

test("ZooKeeper's ConnectResponse to kazoo decodes and re-encodes byte for byte", () => {
  const c = decodeConnectResponse(body(hex(kazoo.connectResponse)));
  assert.equal(c.sessionId, 0x0100000b24270000n);
  assert.equal(c.timeOut, 10000);
  assert.equal(c.readOnly, false);
  assert.equal(toHex(c.passwd), "0b56d7993cb6b6a0614bd644e5860508");
  assert.equal(
    framed((w) => encodeConnectResponse(w, c)),
    toHex(hex(kazoo.connectResponse)),
  );
});

test("a ConnectRequest without the readOnly byte (a 3.3 client) decodes with readOnly undefined", () => {
  const old = hex(kazoo.connectRequest).subarray(0, 48);
  const c = decodeConnectRequest(new JuteReader(old, 4));
  assert.equal(c.readOnly, undefined);
  assert.equal(c.passwd.length, 16);
  // Answered in kind: the response carries no readOnly byte either.
  const resp = {
    protocolVersion: 0,
    timeOut: 4000,
    sessionId: 5n,
    passwd: new Uint8Array(16),
    readOnly: undefined,
  };
  const frame = framed((w) => encodeConnectResponse(w, resp));
  assert.equal(
    frame,
    "00000024" + "00000000" + "00000fa0" + "0000000000000005" + "00000010" + "00".repeat(16),
  );
  assert.deepEqual(decodeConnectResponse(body(hex(frame))), resp);
});

test("a ConnectRequest with readOnly true writes a trailing 01", () => {
  const c: ConnectRequest = {
    protocolVersion: 0,
    lastZxidSeen: 0x500000001n,
    timeOut: 30000,
    sessionId: -2n,
    passwd: new Uint8Array([9, 8]),
    readOnly: true,
  };
  const frame = framed((w) => encodeConnectRequest(w, c));
  assert.equal(
    frame,
    "0000001f 00000000 0000000500000001 00007530 fffffffffffffffe 00000002 0908 01".replace(/ /g, ""),
  );
  assert.deepEqual(decodeConnectRequest(body(hex(frame))), c);
});

test("kazoo's create request decodes to create /corral with data 'hi', the open ACL and persistent flags", () => {
  const r = body(hex(kazoo.createRequest));
  const header = decodeRequestHeader(r);
  assert.deepEqual(header, { xid: 1, type: OpCode.create });
  const req = decodeRequest(header, r);
  assert.deepEqual(req, {
    type: "create",
    op: OpCode.create,
    req: { path: "/corral", data: new Uint8Array([0x68, 0x69]), acl: openAcl, flags: 0, ttl: 0n },
  });
  assert.equal(r.remaining(), 0);
  assert.equal(
    framed((w) => encodeRequest(w, header, req)),
    toHex(hex(kazoo.createRequest)),
  );
});

test("our create reply is byte for byte ZooKeeper's CreateResponse", () => {
  const frame = framed((w) => {
    encodeReplyHeader(w, { xid: 1, zxid: 2n, err: 0 });
    encodeResponse(w, { type: "create", path: "/corral" });
  });
  assert.equal(frame, toHex(hex(kazoo.createReply)));
});

test("kazoo's getData and ZooKeeper's reply with its Stat round-trip byte for byte", () => {
  const r = body(hex(kazoo.getDataRequest));
  const header = decodeRequestHeader(r);
  const req = decodeRequest(header, r);
  assert.deepEqual(req, { type: "getData", op: OpCode.getData, req: { path: "/corral", watch: false } });
  assert.equal(
    framed((w) => encodeRequest(w, header, req)),
    toHex(hex(kazoo.getDataRequest)),
  );

  const rr = body(hex(kazoo.getDataReply));
  const reply = decodeReplyHeader(rr);
  const resp = decodeResponse(OpCode.getData, rr);
  assert.deepEqual(reply, { xid: 2, zxid: 2n, err: 0 });
  assert.ok(resp.type === "getData");
  assert.deepEqual(resp.data, new Uint8Array([0x68, 0x69]));
  assert.deepEqual(resp.stat, {
    czxid: 2n,
    mzxid: 2n,
    ctime: 1795678960852n,
    mtime: 1795678960852n,
    version: 0,
    cversion: 0,
    aversion: 0,
    ephemeralOwner: 0n,
    dataLength: 2,
    numChildren: 0,
    pzxid: 2n,
  });
  assert.equal(
    framed((w) => {
      encodeReplyHeader(w, reply);
      encodeResponse(w, resp);
    }),
    toHex(hex(kazoo.getDataReply)),
  );
});

test("a multi whose second op fails is answered with header err 0 and error results 0 then -101", () => {
  const r = body(hex(kazoo.multiRequest));
  const header = decodeRequestHeader(r);
  const req = decodeRequest(header, r);
  assert.deepEqual(req, {
    type: "multi",
    op: OpCode.multi,
    ops: [
      {
        type: "create",
        op: OpCode.create,
        req: { path: "/corral/a", data: new Uint8Array(0), acl: openAcl, flags: 0, ttl: 0n },
      },
      { type: "delete", op: OpCode.delete, req: { path: "/missing", version: -1 } },
    ],
  });
  assert.equal(
    framed((w) => encodeRequest(w, header, req)),
    toHex(hex(kazoo.multiRequest)),
  );

  const resp: Response = {
    type: "multi",
    results: [
      { type: "error", err: 0 },
      { type: "error", err: -101 },
    ],
  };
  const frame = framed((w) => {
    encodeReplyHeader(w, { xid: 3, zxid: 3n, err: 0 });
    encodeResponse(w, resp);
  });
  assert.equal(frame, toHex(hex(kazoo.multiReplyWithError)));
  const rr = body(hex(frame));
  assert.deepEqual(decodeReplyHeader(rr), { xid: 3, zxid: 3n, err: 0 });
  assert.deepEqual(decodeResponse(OpCode.multi, rr), resp);
});

test("a Stat is 68 bytes in jute field order", () => {
  const w = new JuteWriter();
  encodeStat(w, sampleStat);
  const bytes = w.finish();
  assert.equal(
    toHex(bytes),
    "0000000100000002" +
      "0000000100000003" +
      "0000018bcfe56800" +
      "0000018bcfe5687b" +
      "00000001" +
      "00000002" +
      "00000000" +
      "0100000b24270000" +
      "00000005" +
      "00000000" +
      "0000000100000004",
  );
  assert.deepEqual(decodeStat(new JuteReader(bytes)), sampleStat);
});

test("a WatcherEvent is type, state, path; a notification frame has xid -1", () => {
  const frame = framed((w) => {
    encodeReplyHeader(w, { xid: -1, zxid: 0x200000005n, err: 0 });
    encodeWatcherEvent(w, { type: 3, state: 3, path: "/a" });
  });
  assert.equal(
    frame,
    "0000001e" + "ffffffff" + "0000000200000005" + "00000000" + "00000003" + "00000003" + "00000002" + "2f61",
  );
  const r = body(hex(frame));
  assert.deepEqual(decodeReplyHeader(r), { xid: -1, zxid: 0x200000005n, err: 0 });
  assert.deepEqual(decodeWatcherEvent(r), { type: 3, state: 3, path: "/a" });
});

test("every request variant round-trips through encodeRequest and decodeRequest", () => {
  for (const req of sampleRequests()) {
    const w = new JuteWriter();
    encodeRequest(w, { xid: 42, type: req.op }, req);
    const r = new JuteReader(w.finish());
    const header = decodeRequestHeader(r);
    assert.deepEqual(header, { xid: 42, type: req.op });
    assert.deepEqual(decodeRequest(header, r), req, `op ${req.op}`);
    assert.equal(r.remaining(), 0, `op ${req.op} left bytes`);
  }
});

test("a create2 request is CreateRequest's bytes under opcode 15; createTTL adds the ttl long", () => {
  const create2: Request = {
    type: "create",
    op: 15,
    req: { path: "/a", data: null, acl: [], flags: 2, ttl: 0n },
  };
  const w = new JuteWriter();
  encodeRequest(w, { xid: 1, type: 15 }, create2);
  assert.equal(
    toHex(w.finish()),
    "00000001" + "0000000f" + "00000002" + "2f61" + "ffffffff" + "00000000" + "00000002",
  );
  const ttl: Request = {
    type: "create",
    op: 21,
    req: { path: "/a", data: null, acl: [], flags: 5, ttl: 1000n },
  };
  const w2 = new JuteWriter();
  encodeRequest(w2, { xid: 1, type: 21 }, ttl);
  assert.equal(toHex(w2.finish()).slice(-16), "00000000000003e8");
});

const responses: Array<[number, Response]> = [
  [OpCode.create, { type: "create", path: "/a0000000001" }],
  [OpCode.create2, { type: "create2", path: "/a", stat: sampleStat }],
  [OpCode.createTTL, { type: "create2", path: "/t", stat: sampleStat }],
  [OpCode.delete, { type: "empty" }],
  [OpCode.exists, { type: "stat", stat: sampleStat }],
  [OpCode.getData, { type: "getData", data: null, stat: sampleStat }],
  [OpCode.setData, { type: "stat", stat: sampleStat }],
  [OpCode.getACL, { type: "getACL", acl: openAcl, stat: sampleStat }],
  [OpCode.setACL, { type: "stat", stat: sampleStat }],
  [OpCode.getChildren, { type: "getChildren", children: ["a", "b", "ü😀"] }],
  [OpCode.getChildren2, { type: "getChildren2", children: [], stat: sampleStat }],
  [OpCode.sync, { type: "sync", path: "/" }],
  [OpCode.ping, { type: "empty" }],
  [OpCode.reconfig, { type: "getConfig", data: new Uint8Array([1]), stat: sampleStat }],
  [OpCode.getAllChildrenNumber, { type: "getAllChildrenNumber", totalNumber: 12 }],
  [OpCode.getEphemerals, { type: "getEphemerals", ephemerals: ["/e1", "/e2"] }],
  [OpCode.whoAmI, { type: "whoAmI", clientInfo: [{ authScheme: "ip", user: "127.0.0.1" }] }],
  [OpCode.addWatch, { type: "empty" }],
  [
    OpCode.multi,
    {
      type: "multi",
      results: [
        { type: "create", path: "/m", stat: null },
        { type: "create", path: "/m2", stat: sampleStat },
        { type: "delete" },
        { type: "setData", stat: sampleStat },
        { type: "check" },
      ],
    },
  ],
  [
    OpCode.multiRead,
    {
      type: "multi",
      results: [
        { type: "getData", data: new Uint8Array([7]), stat: sampleStat },
        { type: "getChildren", children: ["x"] },
        { type: "error", err: -101 },
      ],
    },
  ],
];

test("every response variant round-trips through encodeResponse and decodeResponse", () => {
  for (const [op, resp] of responses) {
    const w = new JuteWriter();
    encodeResponse(w, resp);
    const r = new JuteReader(w.finish());
    assert.deepEqual(decodeResponse(op, r), resp, `op ${op}`);
    assert.equal(r.remaining(), 0);
  }
});

test("a multi create result is CreateResponse under opcode 1 without stat and Create2Response under 15 with it", () => {
  const w = new JuteWriter();
  encodeResponse(w, {
    type: "multi",
    results: [
      { type: "create", path: "/a", stat: null },
      { type: "create", path: "/b", stat: sampleStat },
    ],
  });
  const h = toHex(w.finish());
  assert.ok(
    h.startsWith(
      "00000001" +
        "00" +
        "00000000" +
        "00000002" +
        "2f61" +
        "0000000f" +
        "00" +
        "00000000" +
        "00000002" +
        "2f62",
    ),
  );
  assert.ok(h.endsWith("ffffffff" + "01" + "ffffffff"));
  assert.equal(h.length / 2, 9 + 6 + 9 + 6 + 68 + 9);
});

test("an unknown opcode, or check sent alone, is an UnknownOpCodeError carrying xid and type", () => {
  for (const type of [0, 13, 99, -10, 1000]) {
    assert.throws(
      () => decodeRequest({ xid: 77, type }, new JuteReader(new Uint8Array(0))),
      (e: unknown) => e instanceof UnknownOpCodeError && e.xid === 77 && e.type === type,
    );
  }
});

test("multi refuses a read op and multiRead a write op with DecodeError", () => {
  const multiWithRead = hex("00000004 00 ffffffff 00000002 2f61 00 ffffffff 01 ffffffff");
  assert.throws(
    () => decodeRequest({ xid: 1, type: OpCode.multi }, new JuteReader(multiWithRead)),
    DecodeError,
  );
  assert.equal(
    decodeRequest({ xid: 1, type: OpCode.multiRead }, new JuteReader(multiWithRead)).type,
    "multi",
  );
  const readWithWrite = hex("00000002 00 ffffffff 00000002 2f61 ffffffff ffffffff 01 ffffffff");
  assert.throws(
    () => decodeRequest({ xid: 1, type: OpCode.multiRead }, new JuteReader(readWithWrite)),
    DecodeError,
  );
});

test("a multi without its closing header is a DecodeError, not a hang", () => {
  const open = hex("0000000d 00 ffffffff 00000002 2f61 00000001");
  assert.throws(() => decodeRequest({ xid: 1, type: OpCode.multi }, new JuteReader(open)), DecodeError);
});

test("a request with a null path is a DecodeError", () => {
  assert.throws(
    () => decodeRequest({ xid: 1, type: OpCode.getData }, new JuteReader(hex("ffffffff 00"))),
    DecodeError,
  );
});

test("a deleteContainer request is the path alone and decodes with version -1", () => {
  const w = new JuteWriter();
  encodeRequest(
    w,
    { xid: 5, type: OpCode.deleteContainer },
    sampleRequests().find((q) => q.op === OpCode.deleteContainer)!,
  );
  assert.equal(toHex(w.finish()), "00000005" + "00000014" + "00000002" + "2f63");
});

test("a ReplyHeader with an error code round-trips", () => {
  const h: ReplyHeader = { xid: 9, zxid: -1n, err: -101 };
  const w = new JuteWriter();
  encodeReplyHeader(w, h);
  assert.equal(toHex(w.finish()), "00000009" + "ffffffffffffffff" + "ffffff9b");
});
