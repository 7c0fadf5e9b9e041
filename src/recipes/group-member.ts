// GroupMember: join a group under an ephemeral node and see who else is in it (Curator's GroupMember).
import type { Data, ZooKeeperClient } from "../client/index.js";
import { ChildrenCache } from "./children-cache.js";
import { PersistentNode } from "./persistent-node.js";
import { joinPath } from "./znode-paths.js";

/**
 * A member of the group at `path`, present as the ephemeral node `path/<memberId>` (kept by a PersistentNode)
 * and watching the others with a ChildrenCache.
 */
export class GroupMember {
  private readonly node: PersistentNode;
  readonly cache: ChildrenCache;

  constructor(
    readonly zk: ZooKeeperClient,
    readonly path: string,
    readonly memberId: string,
    payload: Data = null,
  ) {
    this.node = new PersistentNode(zk, joinPath(path, memberId), "ephemeral", payload);
    this.cache = new ChildrenCache(zk, path);
  }

  async start(): Promise<void> {
    await this.node.start();
    await this.cache.start();
  }

  setPayload(payload: Data): Promise<void> {
    return this.node.setData(payload);
  }

  /** Member id → payload, as currently cached. */
  currentMembers(): Map<string, Uint8Array> {
    const prefix = this.path.length + 1;
    return new Map(this.cache.currentData().map((c) => [c.path.slice(prefix), c.data]));
  }

  async close(): Promise<void> {
    this.cache.close();
    await this.node.close();
  }
}
