// DistributedQueue: a FIFO of sequential nodes; a consumer takes the lowest by deleting it (Curator's).
import { randomUUID } from "node:crypto";
import {
  BadVersionError,
  ConnectionLossError,
  NoNodeError,
  type Data,
  type ZooKeeperClient,
} from "../client/index.js";
import { waitForWatch } from "./watch-wait.js";
import { deleteGuaranteed, retryOnConnectionLoss, waitForConnection } from "./connection-retry.js";
import { protectedCreate, stripProtectedPrefix } from "./protected-create.js";
import { validateRecipePath } from "./recipe-path.js";
import { ensurePath, joinPath, sortBySequence } from "./znode-paths.js";

/** Curator's DistributedQueue.QUEUE_ITEM_NAME. */
const itemName = "queue-";
/** A persistent child of the queue under which a take's ephemeral marker lives for a moment. */
const takesNode = "_takes";

/** Curator's ItemSerializer format: int version, then (byte 1, int length, bytes) per message, then byte 2. */
const serializerVersion = 0x00010001;
const itemOpcode = 0x01;
const eofOpcode = 0x02;

/** Encodes messages as Curator's ItemSerializer does (a MultiItem), so a Curator consumer can read them. */
export function encodeQueueItem(messages: readonly Data[]): Uint8Array {
  const bodies = messages.map((m) =>
    m === null || m === undefined ? new Uint8Array(0) : typeof m === "string" ? Buffer.from(m) : m,
  );
  const out = Buffer.alloc(4 + bodies.reduce((n, b) => n + 5 + b.length, 0) + 1);
  let at = out.writeInt32BE(serializerVersion, 0);
  for (const b of bodies) {
    at = out.writeUInt8(itemOpcode, at);
    at = out.writeInt32BE(b.length, at);
    out.set(b, at);
    at += b.length;
  }
  out.writeUInt8(eofOpcode, at);
  return out;
}

/** Decodes Curator's ItemSerializer format; throws on anything else. */
export function decodeQueueItem(bytes: Uint8Array): Uint8Array[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 5 || buf.readInt32BE(0) !== serializerVersion)
    throw new Error("not a queue item (bad serializer version)");
  const out: Uint8Array[] = [];
  let at = 4;
  for (;;) {
    const op = buf.readUInt8(at++);
    if (op === eofOpcode) return out;
    if (op !== itemOpcode) throw new Error(`not a queue item (opcode ${op})`);
    const length = buf.readInt32BE(at);
    at += 4;
    out.push(new Uint8Array(buf.subarray(at, at + length)));
    at += length;
  }
}

export interface QueueTakeOptions {
  /** Give up after this long: take() resolves undefined. Default: wait as long as it takes. */
  timeoutMs?: number;
  /** Aborting rejects take() with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * A distributed FIFO at `path` (DistributedQueue / SimpleDistributedQueue). put() creates a persistent
 * sequential item node holding the message in Curator's ItemSerializer format; take() lists the items, tries
 * the lowest first, and owns an item once its delete succeeds, so each item goes to exactly one consumer.
 *
 * Both ends survive connection loss without duplicating or losing an item: puts use protected names
 * (`_c_<uuid>-queue-<seq>`, found again after a lost reply), and a take deletes the item in a multi that also
 * creates an ephemeral marker (`<path>/_takes/<uuid>`), which says after a lost reply whether the take
 * happened. Items are ordered by their sequence number, so Curator's plain `queue-<seq>` items are taken too.
 */
export class DistributedQueue {
  private readonly takesPath: string;
  /** Messages of a multi-message item already taken from the server, handed out by later take() calls. */
  private readonly buffered: Uint8Array[] = [];

  constructor(
    readonly zk: ZooKeeperClient,
    readonly path: string,
  ) {
    validateRecipePath(path);
    this.takesPath = joinPath(path, takesNode);
  }

  /** Adds one message; resolves with its item node's path. */
  put(message: Data): Promise<string> {
    return this.putMulti([message]);
  }

  /** Adds several messages as one item (atomically; a consumer takes them together, in order). */
  async putMulti(messages: readonly Data[]): Promise<string> {
    if (messages.length === 0) throw new RangeError("putMulti() needs at least one message");
    return protectedCreate(this.zk, this.path, itemName, encodeQueueItem(messages), {
      mode: "persistent-sequential",
    });
  }

  /** Takes the oldest message, waiting for one; undefined after `timeoutMs`. */
  async take(options: QueueTakeOptions = {}): Promise<Uint8Array | undefined> {
    const { signal } = options;
    const deadlineMs = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
    for (;;) {
      signal?.throwIfAborted();
      const early = this.buffered.shift();
      if (early !== undefined) return early;
      let fire = (): void => {};
      const fired = new Promise<void>((resolve) => (fire = resolve));
      const got = await this.takeFirst(() => fire(), deadlineMs, signal);
      if (got !== undefined) return got;
      if (deadlineMs !== undefined && Date.now() >= deadlineMs) return undefined;
      if (!(await waitForWatch(this.zk, fired, deadlineMs, signal))) return undefined;
    }
  }

  /** Takes the oldest message if there is one, without waiting (SimpleDistributedQueue.poll). */
  async poll(): Promise<Uint8Array | undefined> {
    return this.buffered.shift() ?? (await this.takeFirst(undefined, undefined, undefined));
  }

  /** The item node names, oldest first. */
  async items(): Promise<string[]> {
    return this.listItems(undefined, undefined, undefined);
  }

  /** How many items are queued (a multi-message item counts once). */
  async size(): Promise<number> {
    return (await this.items()).length;
  }

  private async listItems(
    watch: (() => void) | undefined,
    deadlineMs: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<string[]> {
    let names: string[];
    try {
      names = await retryOnConnectionLoss(
        this.zk,
        () => this.zk.getChildren(this.path, watch === undefined ? {} : { watch }),
        { deadlineMs, signal },
      );
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
      // No queue yet: a watch on its creation, so a waiting take() wakes when the first put() makes it.
      if (watch !== undefined) {
        const stat = await retryOnConnectionLoss(this.zk, () => this.zk.exists(this.path, { watch }), {
          deadlineMs,
          signal,
        });
        if (stat !== null) return this.listItems(watch, deadlineMs, signal);
      }
      return [];
    }
    return sortBySequence(names.filter((n) => stripProtectedPrefix(n).startsWith(itemName)));
  }

  /** Lists the items (arming `watch`) and takes the first one still there; undefined when none is. */
  private async takeFirst(
    watch: (() => void) | undefined,
    deadlineMs: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Uint8Array | undefined> {
    for (const name of await this.listItems(watch, deadlineMs, signal)) {
      signal?.throwIfAborted();
      const messages = await this.tryTake(joinPath(this.path, name));
      if (messages === undefined) continue; // someone else took it
      if (messages.length === 0) continue; // an item with no message (Curator writes none such)
      this.buffered.push(...messages.slice(1));
      return messages[0];
    }
    return undefined;
  }

  /** Reads and deletes one item; undefined when another consumer took it first. */
  private async tryTake(itemPath: string): Promise<Uint8Array[] | undefined> {
    let read: { data: Uint8Array; stat: { version: number } };
    try {
      read = await retryOnConnectionLoss(this.zk, () => this.zk.getData(itemPath));
    } catch (err) {
      if (err instanceof NoNodeError) return undefined;
      throw err;
    }
    const marker = joinPath(this.takesPath, randomUUID());
    for (let attempt = 1; ; attempt++) {
      try {
        await this.zk
          .transaction()
          .delete(itemPath, read.stat.version)
          .create(marker, null, { mode: "ephemeral" })
          .commit();
        break;
      } catch (err) {
        if (err instanceof NoNodeError) {
          // The item is gone (taken), or the marker's parent is missing: tell which.
          if (
            (await retryOnConnectionLoss(this.zk, () => this.zk.exists(this.takesPath))) === null &&
            attempt < 3
          ) {
            await ensurePath(this.zk, this.takesPath);
            continue;
          }
          return undefined;
        }
        if (err instanceof BadVersionError) return this.tryTake(itemPath); // changed since read: read again
        if (!(err instanceof ConnectionLossError)) throw err;
        // Unknown outcome: the marker exists iff the multi committed.
        await waitForConnection(this.zk);
        const taken = await retryOnConnectionLoss(this.zk, async () => {
          await this.zk.sync(this.path);
          return (await this.zk.exists(marker)) !== null;
        });
        if (taken) break;
        if ((await retryOnConnectionLoss(this.zk, () => this.zk.exists(itemPath))) === null) return undefined;
      }
    }
    await deleteGuaranteed(this.zk, marker);
    try {
      return decodeQueueItem(read.data);
    } catch {
      return [read.data]; // not Curator's format: the raw bytes are the message
    }
  }
}
