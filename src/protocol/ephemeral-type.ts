// EphemeralType: how a node's persisted ephemeralOwner encodes its kind (session, container, TTL).
// Pure: no I/O, no clock, no randomness.
import type { NodeKind } from "./types.js";

/** EphemeralType.CONTAINER_EPHEMERAL_OWNER: Long.MIN_VALUE. */
export const containerEphemeralOwner = -(1n << 63n);
/** EphemeralType.TTL.maxValue(): the low 40 bits. */
export const ttlMax = (1n << 40n) - 1n;
const extendedMask = 0xff00000000000000n;
const reservedBitsMask = 0x00ffff0000000000n;

/** The persisted ephemeralOwner of a new node (PrepRequestProcessor.pRequest2TxnCreate, DataTree.processTxn). */
export function ephemeralOwnerFor(kind: NodeKind, sessionId: bigint, ttl: bigint): bigint {
  switch (kind) {
    case "persistent":
      return 0n;
    case "ephemeral":
      return sessionId;
    case "container":
      return containerEphemeralOwner;
    case "ttl":
      return BigInt.asIntN(64, extendedMask | ttl);
  }
}

/**
 * EphemeralType.get with extended types enabled: the kind a persisted ephemeralOwner stands for. Used when a
 * snapshot carries only the owner; the tree otherwise keeps each node's kind from its create txn.
 */
export function kindOfEphemeralOwner(owner: bigint): NodeKind {
  if (owner === 0n) return "persistent";
  if (owner === containerEphemeralOwner) return "container";
  const u = BigInt.asUintN(64, owner);
  if ((u & extendedMask) === extendedMask && (u & reservedBitsMask) === 0n) return "ttl";
  return "ephemeral";
}

/** EphemeralType.TTL.getValue: the ttl (ms) of a TTL node's owner. */
export function ttlOfEphemeralOwner(owner: bigint): bigint {
  return BigInt.asUintN(64, owner) & ~(extendedMask | reservedBitsMask) & 0xffffffffffffffffn;
}

/** DataNode.getClientEphemeralOwner: clients see 0 for containers and TTL nodes. */
export function clientEphemeralOwner(kind: NodeKind, owner: bigint): bigint {
  return kind === "ephemeral" ? owner : 0n;
}
