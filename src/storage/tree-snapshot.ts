// The payload of a snapshot file: the replicated state of a DataTree (sessions, ACL lists, nodes) in jute.
// The file around it (magic, CRC, zxid) is snapshot.ts's; this file only turns a tree into bytes and back.
import { JuteReader } from "../protocol/jute-reader.js";
import { JuteWriter } from "../protocol/jute-writer.js";
import { encodeACL, decodeACL } from "../protocol/records.js";
import type { ACL } from "../protocol/types.js";
import { DataTree, type NodeRecord, type SessionRecord, type StatPersisted } from "../tree/data-tree.js";
import type { SnapshotHead, SnapshotView, VisitNode } from "../tree/snapshot-view.js";
import { assert } from "../base/assert.js";
import { CorruptLogError, DecodeError } from "../base/errors.js";
import { snapshotHeaderBytes } from "./format.js";
import { SnapshotBody } from "./snapshot.js";

/**
 * 3: nodes in any order (a snapshot written from a SnapshotView while txns apply); 2 added each session's
 * password; 1 and 2 are still read (a version 1 session gets an empty password and cannot be resumed).
 */
const payloadVersion = 3;
/** Chunks handed to the file writer: big enough to amortise, small enough not to double a huge buffer. */
const chunkBytes = 1 << 20;
/** streamTree hands the event loop back after this long of serialising (ms). */
const sliceMs = 0.5;
/** Nodes serialised between two looks at the clock. */
const nodesPerLook = 128;

/**
 * Serialises the whole tree now, synchronously: the snapshot is exactly the state at tree.lastProcessedZxid.
 * For a large tree on a serving server use streamTree, which does not stop writes.
 */
export function serializeTree(tree: DataTree): Uint8Array[] {
  const out = new PayloadWriter(tree.snapshotHead());
  for (const [path, node] of tree.nodesParentFirst()) out.visit(path, node.data, node.acl, node.stat);
  return out.finish();
}

/**
 * The snapshot payload of `view`, serialised a slice of about sliceMs at a time with the event loop handed back
 * between slices, so txns go on applying meanwhile (the view keeps what they change as it was). Closes the view
 * when done or abandoned; the caller opens it at the point the snapshot is of. Each chunk is valid only until the
 * next one is asked for: use it (write it, copy it) first.
 */
export async function* streamTree(view: SnapshotView): AsyncGenerator<Uint8Array> {
  try {
    // One buffer for the whole stream: each chunk is handed out, and written over only once the consumer
    // asks for the next (a snapshot of a large tree would otherwise leave hundreds of MiB to the allocator).
    const out = new PayloadWriter(view.head, true);
    for (;;) {
      const deadline = performance.now() + sliceMs;
      let done = false;
      while (!done && performance.now() < deadline) done = view.next(nodesPerLook, out.visit);
      if (done) break;
      if (out.length >= chunkBytes) {
        yield out.cut();
        out.reset();
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    yield* out.finish();
  } finally {
    view.close();
  }
}

/**
 * Writes a payload into chunks of about chunkBytes: the header, sessions and ACL lists at once, nodes as visited.
 * A streaming writer (`streaming`) keeps one buffer and leaves cutting chunks to its caller (cut, reset).
 */
export class PayloadWriter {
  private readonly chunks: Uint8Array[] = [];
  private w = new JuteWriter(chunkBytes + 4096);
  /** ACL lists are shared between nodes (AclCache): written once, referred to by index (ReferenceCountedACLCache). */
  private readonly aclIndex = new Map<readonly ACL[], number>();

  constructor(
    head: SnapshotHead,
    private readonly streaming = false,
  ) {
    const w = this.w;
    w.writeInt(payloadVersion);
    w.writeLong(head.zxid);
    w.writeInt(head.sessions.length);
    for (const [id, session] of head.sessions) {
      w.writeLong(id);
      w.writeInt(session.timeOut);
      w.writeBuffer(session.passwd);
      this.roll();
    }
    this.w.writeInt(head.acls.length);
    for (const list of head.acls) {
      this.aclIndex.set(list, this.aclIndex.size);
      this.w.writeInt(list.length);
      for (const a of list) encodeACL(this.w, a);
      this.roll();
    }
  }

  readonly visit: VisitNode = (path, data, acl, stat) => {
    const w = this.w;
    w.writeString(path);
    w.writeBuffer(data);
    const index = this.aclIndex.get(acl);
    assert(index !== undefined, `ACL list of ${path} was not in use when the snapshot started`);
    w.writeInt(index);
    writeStat(w, stat);
    this.roll();
  };

  /** Bytes in the current chunk. */
  get length(): number {
    return this.w.length;
  }

  /** A streaming writer's bytes so far, valid until reset(). */
  cut(): Uint8Array {
    assert(this.streaming, "cut() is for a streaming writer");
    return this.w.finish();
  }

  /** After cut(): the next bytes go to the start of the same buffer. */
  reset(): void {
    this.w.reset();
  }

  /** Ends the payload; the chunks not taken yet. */
  finish(): Uint8Array[] {
    this.w.writeString(null);
    this.chunks.push(this.w.finish());
    return this.chunks.splice(0);
  }

  private roll(): void {
    if (!this.streaming && this.w.length >= chunkBytes) {
      this.chunks.push(this.w.finish());
      this.w = new JuteWriter(chunkBytes + 4096);
    }
  }
}

function writeStat(w: JuteWriter, s: Readonly<StatPersisted>): void {
  w.writeLong(s.czxid);
  w.writeLong(s.mzxid);
  w.writeLong(s.ctime);
  w.writeLong(s.mtime);
  w.writeInt(s.version);
  w.writeInt(s.cversion);
  w.writeInt(s.aversion);
  w.writeLong(s.ephemeralOwner);
  w.writeLong(s.pzxid);
}

/**
 * Reads the stats of successive nodes. Nodes created in the same millisecond are next to each other in a
 * snapshot: a time equal to the previous node's is that node's bigint (the tree keeps one per distinct value).
 */
function statReader(r: JuteReader): () => StatPersisted {
  let lastTime = 0n;
  const time = (): bigint => {
    const t = r.readLong();
    if (t === lastTime) return lastTime;
    lastTime = t;
    return t;
  };
  return () => ({
    czxid: r.readLong(),
    mzxid: r.readLong(),
    ctime: time(),
    mtime: time(),
    version: r.readInt(),
    cversion: r.readInt(),
    aversion: r.readInt(),
    ephemeralOwner: r.readLong(),
    pzxid: r.readLong(),
  });
}

/** What follows a node's data in a snapshot: its ACL list index (an int), then its stat (6 longs, 3 ints). */
const nodeTailBytes = 4 + 6 * 8 + 3 * 4;

/** Rebuilds a tree from a snapshot payload; a payload that does not decode is corruption of `file`. */
export function deserializeTree(bytes: Uint8Array, file: string): DataTree {
  return decodeTree(new JuteReader(bytes), file);
}

/**
 * Rebuilds the tree in snapshot file `file` (named for `zxid`), reading it a window at a time. A file whose
 * frame or CRC is wrong is not ok (the caller tries an older one); a payload that does not decode although
 * its CRC matches is corruption of `file` (thrown, offset in the file).
 */
export async function loadTreeSnapshot(
  file: string,
  zxid: bigint,
  windowBytes?: number,
): Promise<{ ok: true; tree: DataTree } | { ok: false; why: string }> {
  const opened = await SnapshotBody.open(file, zxid, windowBytes);
  if (!opened.ok) return opened;
  const body = opened.body;
  try {
    const r = new JuteReader(new Uint8Array(0), 0, 0, body);
    let tree: DataTree;
    try {
      tree = decodeTree(r, file, snapshotHeaderBytes);
    } catch (e) {
      // Bytes that do not decode are corruption only if they are what was written.
      const why = body.finish();
      if (why !== null) return { ok: false, why };
      throw e;
    }
    const why = body.finish();
    return why === null ? { ok: true, tree } : { ok: false, why };
  } finally {
    await body.close();
  }
}

/** Errors name `file` and the offset in it: the reader's plus `offsetInFile` (where its input starts). */
function decodeTree(r: JuteReader, file: string, offsetInFile = 0): DataTree {
  try {
    const version = r.readInt();
    if (version < 1 || version > payloadVersion)
      throw new DecodeError(`unknown snapshot payload version ${version}`);
    const lastProcessedZxid = r.readLong();
    const sessionCount = r.readInt();
    if (sessionCount < 0 || sessionCount * 12 > r.remaining())
      throw new DecodeError(`bad session count ${sessionCount}`);
    const sessions: [bigint, SessionRecord][] = [];
    for (let i = 0; i < sessionCount; i++) {
      const id = r.readLong();
      const timeOut = r.readInt();
      const passwd = version === 1 ? new Uint8Array(0) : (r.readBuffer() ?? new Uint8Array(0));
      sessions.push([id, { timeOut, passwd }]);
    }
    const aclCount = r.readInt();
    if (aclCount < 0 || aclCount * 4 > r.remaining()) throw new DecodeError(`bad ACL list count ${aclCount}`);
    const acls: ACL[][] = [];
    for (let i = 0; i < aclCount; i++) {
      const n = r.readInt();
      if (n < 0 || n * 12 > r.remaining()) throw new DecodeError(`bad ACL list length ${n}`);
      const list: ACL[] = [];
      for (let j = 0; j < n; j++) list.push(decodeACL(r));
      acls.push(list);
    }
    const readStat = statReader(r);
    const nodes = (load: (path: string, rec: NodeRecord) => void): void => {
      for (;;) {
        const path = r.readString();
        if (path === null) return;
        // A view into the payload: the tree copies it. Null stays null (ZooKeeper returns null for a node
        // created without data).
        const data = r.readBufferView(nodeTailBytes);
        const index = r.readInt();
        const acl = acls[index];
        if (acl === undefined)
          throw new DecodeError(`node ${path} refers to ACL list ${index} of ${acls.length}`);
        load(path, { data, acl, stat: readStat() });
      }
    };
    const tree = DataTree.restore({ lastProcessedZxid, sessions, nodes });
    if (r.remaining() !== 0) throw new DecodeError(`${r.remaining()} bytes after the last node`);
    return tree;
  } catch (e) {
    if (e instanceof DecodeError) throw new CorruptLogError(file, offsetInFile + r.offset, e.message);
    throw e;
  }
}
