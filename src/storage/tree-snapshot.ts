// The payload of a snapshot file: the replicated state of a DataTree (sessions, ACL lists, nodes) in jute.
// The file around it (magic, CRC, zxid) is snapshot.ts's; this file only turns a tree into bytes and back.
import { JuteReader } from "../protocol/jute-reader.js";
import { JuteWriter } from "../protocol/jute-writer.js";
import { encodeACL, decodeACL } from "../protocol/records.js";
import type { ACL } from "../protocol/types.js";
import { DataTree, type NodeRecord, type SessionRecord, type StatPersisted } from "../tree/data-tree.js";
import { CorruptLogError, DecodeError } from "../base/errors.js";

/** 2 added each session's password; 1 is still read (its sessions get an empty password and cannot be resumed). */
const payloadVersion = 2;
/** Chunks handed to the file writer: big enough to amortise, small enough not to double a huge buffer. */
const chunkBytes = 1 << 20;

/**
 * Serialises the whole tree now, synchronously, so the snapshot is exactly the state at
 * tree.lastProcessedZxid; writing the chunks to disk may then overlap with later applies.
 */
export function serializeTree(tree: DataTree): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let w = new JuteWriter(chunkBytes + 4096);
  const roll = (): void => {
    if (w.length >= chunkBytes) {
      chunks.push(w.finish());
      w = new JuteWriter(chunkBytes + 4096);
    }
  };
  w.writeInt(payloadVersion);
  w.writeLong(tree.lastProcessedZxid);
  const sessions = [...tree.sessions].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  w.writeInt(sessions.length);
  for (const [id, session] of sessions) {
    w.writeLong(id);
    w.writeInt(session.timeOut);
    w.writeBuffer(session.passwd);
    roll();
  }
  // ACL lists are shared between nodes (AclCache): write each once and refer to it by index, as ZooKeeper's ReferenceCountedACLCache.
  const aclIndex = new Map<readonly ACL[], number>();
  const acls: (readonly ACL[])[] = [];
  for (const [, node] of tree.nodesParentFirst()) {
    if (!aclIndex.has(node.acl)) {
      aclIndex.set(node.acl, acls.length);
      acls.push(node.acl);
    }
  }
  w.writeInt(acls.length);
  for (const list of acls) {
    w.writeInt(list.length);
    for (const a of list) encodeACL(w, a);
    roll();
  }
  for (const [path, node] of tree.nodesParentFirst()) {
    w.writeString(path);
    w.writeBuffer(node.data);
    w.writeInt(aclIndex.get(node.acl)!);
    writeStat(w, node.stat);
    roll();
  }
  w.writeString(null);
  chunks.push(w.finish());
  return chunks;
}

function writeStat(w: JuteWriter, s: StatPersisted): void {
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

/** Rebuilds a tree from a snapshot payload; a payload that does not decode is corruption of `file`. */
export function deserializeTree(bytes: Uint8Array, file: string): DataTree {
  const r = new JuteReader(bytes);
  try {
    const version = r.readInt();
    if (version !== payloadVersion && version !== 1)
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
        const data = r.readBufferView();
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
    if (e instanceof DecodeError) throw new CorruptLogError(file, r.offset, e.message);
    throw e;
  }
}
