// Every limit in one place, each with why. Pure: constants only.

/** jute.maxbuffer default (0xfffff): the largest frame or record a peer may send. ZooKeeper's default. */
export const juteMaxBufferDefault = 0xfffff;

/** A znode's data may be up to jute.maxbuffer; ZooKeeper refuses larger with BadArguments. */
export const znodeDataBytesMaxDefault = juteMaxBufferDefault;

/** Requests a single connection may have outstanding before its socket is paused (backpressure). */
export const connectionRequestsOutstandingMax = 1000;
/** Resume reading a paused connection once it is back under this many. */
export const connectionRequestsOutstandingLowWater = 500;

/** Vectors (children, ACLs, watch lists, multi ops) longer than this in a request are refused. */
export const juteVectorLengthMax = 1 << 20;

/** Writes gathered into one fsync by group commit. */
export const groupCommitTxnsMax = 1000;

/** A snapshot is taken after this many txns (ZooKeeper's snapCount default 100000). */
export const snapCountDefault = 100000;

/**
 * A server asked nothing but pings for this long (after some activity) runs one full collection, then a young one
 * in each of the next few such periods (server/idle-collector.ts).
 */
export const idleCollectAfterMs = 5_000;

/** Log segment preallocation (ZooKeeper's zookeeper.preAllocSize default 64 MiB; ours smaller, grows). */
export const logSegmentPreallocBytes = 16 * 1024 * 1024;

/** maxClientCnxns default: connections per client IP (ZooKeeper's default 60). */
export const maxClientCnxnsDefault = 60;
