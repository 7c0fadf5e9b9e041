// The client's option and value types (ConnectOptions, CreateOptions, Data, ...) and their defaults. Types only, no I/O.
import type { ConnectionOptions as TlsOptions } from "node:tls";
import type { ACL, Stat } from "../protocol/types.js";
import type { ZkError } from "./errors.js";
import type { WatchCallback } from "./watches.js";

/** Znode data as callers give it: bytes, a string (sent as UTF-8), or null (ZooKeeper stores null data). */
export type Data = Uint8Array | string | null;

export type CreateMode =
  | "persistent"
  | "ephemeral"
  | "persistent-sequential"
  | "ephemeral-sequential"
  | "container"
  | "persistent-ttl"
  | "persistent-sequential-ttl";

export interface CreateOptions {
  /** Default "persistent". */
  mode?: CreateMode;
  /** Default OPEN_ACL_UNSAFE. */
  acl?: readonly ACL[];
  /** Required for the TTL modes (and only for them): milliseconds after its last change an empty node may go. */
  ttlMs?: number;
}

export interface WatchOptions {
  /** A one-shot watch: called once, with the first event on the node, then forgotten. */
  watch?: WatchCallback;
}

export interface ConnectOptions {
  /** The session timeout asked for; the server negotiates it into [2, 20] ticks. */
  sessionTimeoutMs: number;
  /** Accept a read-only server (one cut off from its quorum). Default false. */
  readOnly?: boolean;
  /** Aborting before connect() resolves rejects it; aborting later closes the client. */
  signal?: AbortSignal;
  /** How long connect() waits for the first session. Default sessionTimeoutMs. */
  connectTimeoutMs?: number;
  /** Resume an existing session (both or neither). */
  sessionId?: bigint;
  sessionPassword?: Uint8Array;
  /** Try the hosts in a random order (default true); false keeps the connect string's order. */
  shuffleHosts?: boolean;
  /** The largest reply frame accepted. Default 4 MiB. */
  maxBufferBytes?: number;
  /**
   * Connect over TLS (to the servers' secureClientPort) with these node:tls options: `ca`, and `cert` and
   * `key` for a client certificate (which the server turns into an `x509` identity). The certificate is
   * checked against each host of the connect string unless `checkServerIdentity` says otherwise.
   */
  tls?: TlsOptions;
}

export interface ReadOp {
  type: "getData" | "getChildren";
  path: string;
}

export type ReadResult =
  | { type: "getData"; data: Uint8Array; stat: Stat }
  | { type: "getChildren"; children: string[] }
  | { type: "error"; code: number; error: ZkError };

/**
 * The largest reply frame accepted by default. ZooKeeper's server allows data up to jute.maxbuffer (1 MiB) and
 * a getChildren reply past it, so the client's limit sits well above the server's.
 */
export const clientMaxBufferBytesDefault = 4 * 1024 * 1024;

/** setWatches batches stay under this many bytes of paths (ClientCnxn.SET_WATCHES_MAX_LENGTH), below jute.maxbuffer. */
export const setWatchesBatchBytesMax = 128 * 1024;
