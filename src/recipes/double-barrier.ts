// DistributedDoubleBarrier: members enter together once memberQty have arrived, and leave together (Curator's).
import { randomUUID } from "node:crypto";
import { NodeExistsError, NoNodeError, type ZooKeeperClient } from "../client/index.js";
import { waitForWatch } from "./watch-wait.js";
import { deleteGuaranteed, retryOnConnectionLoss } from "./connection-retry.js";
import { RecipeStateError } from "./errors.js";
import { validateRecipePath } from "./recipe-path.js";
import { ensurePath, joinPath } from "./znode-paths.js";

/** Curator's READY_NODE: created by the member whose arrival completes the group. */
const readyNode = "ready";

export interface DoubleBarrierWaitOptions {
  /** Give up after this long: the call resolves false (and enter() removes our node). */
  timeoutMs?: number;
  /** Aborting rejects with the signal's reason (and enter() removes our node). */
  signal?: AbortSignal;
}

/**
 * A double barrier at `path` for `memberQty` members (DistributedDoubleBarrier). enter() creates the ephemeral
 * `<path>/<id>` and waits until `memberQty` members are there; the one that completes the group creates
 * `<path>/ready`, which lets everyone in. leave() deletes our node and waits until every member has left:
 * the lowest-named member waits for the highest, everyone else deletes its node and waits for the lowest, so
 * each departure wakes one waiter. The last to go deletes `ready`. One instance is one member.
 */
export class DistributedDoubleBarrier {
  readonly id: string;
  private readonly ourPath: string;
  private readonly readyPath: string;
  private entered = false;

  constructor(
    readonly zk: ZooKeeperClient,
    readonly path: string,
    readonly memberQty: number,
    options: { id?: string } = {},
  ) {
    validateRecipePath(path);
    if (!Number.isInteger(memberQty) || memberQty < 1)
      throw new RangeError(`memberQty must be a positive integer, not ${memberQty}`);
    this.id = options.id ?? randomUUID();
    if (this.id === readyNode || this.id.includes("/")) throw new RangeError(`invalid member id ${this.id}`);
    this.ourPath = joinPath(path, this.id);
    this.readyPath = joinPath(path, readyNode);
  }

  /** Resolves true once `memberQty` members have entered; false at the timeout. */
  async enter(options: DoubleBarrierWaitOptions = {}): Promise<boolean> {
    if (this.entered) throw new RecipeStateError(`member ${this.id} already entered ${this.path}`);
    const { signal } = options;
    signal?.throwIfAborted();
    const deadlineMs = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
    const retry = { deadlineMs, signal };
    let fire = (): void => {};
    const fired = new Promise<void>((resolve) => (fire = resolve));
    const readyExists =
      (await retryOnConnectionLoss(
        this.zk,
        () => this.zk.exists(this.readyPath, { watch: () => fire() }),
        retry,
      )) !== null;
    await ensurePath(this.zk, this.path, retry);
    try {
      await retryOnConnectionLoss(
        this.zk,
        () => this.zk.create(this.ourPath, null, { mode: "ephemeral" }),
        retry,
      );
    } catch (err) {
      // Ours, created before a lost reply; or another member with our id (a usage error Curator also allows).
      if (!(err instanceof NodeExistsError)) throw err;
    }
    let ok = false;
    try {
      ok = readyExists || (await this.waitForMembers(fired, deadlineMs, signal));
      return ok;
    } finally {
      if (ok) this.entered = true;
      else await deleteGuaranteed(this.zk, this.ourPath);
    }
  }

  /** Resolves true once every member has left; false at the timeout (our node is removed either way). */
  async leave(options: DoubleBarrierWaitOptions = {}): Promise<boolean> {
    const { signal } = options;
    signal?.throwIfAborted();
    const deadlineMs = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
    this.entered = false;
    let ourNodeShouldExist = true;
    try {
      for (;;) {
        signal?.throwIfAborted();
        const children = await this.members(deadlineMs, signal);
        if (children.length === 0) break;
        const ourIndex = children.indexOf(this.id);
        if (ourIndex < 0 && ourNodeShouldExist)
          throw new RecipeStateError(`our node ${this.ourPath} is missing (deleted, or its session ended)`);
        if (children.length === 1) {
          if (ourNodeShouldExist && children[0] !== this.id)
            throw new RecipeStateError(`the last node at ${this.path} is not ours`);
          if (ourNodeShouldExist) await deleteGuaranteed(this.zk, this.ourPath);
          ourNodeShouldExist = false;
          break;
        }
        // Lowest waits for the highest; the others leave now and wait for the lowest.
        const watched = ourIndex === 0 ? children[children.length - 1]! : children[0]!;
        if (ourIndex !== 0 && ourNodeShouldExist) {
          await deleteGuaranteed(this.zk, this.ourPath);
          ourNodeShouldExist = false;
        }
        let fire = (): void => {};
        const fired = new Promise<void>((resolve) => (fire = resolve));
        const stat = await retryOnConnectionLoss(
          this.zk,
          () => this.zk.exists(joinPath(this.path, watched), { watch: () => fire() }),
          { deadlineMs, signal },
        );
        if (stat !== null && !(await waitForWatch(this.zk, fired, deadlineMs, signal))) return false;
      }
      try {
        await retryOnConnectionLoss(this.zk, () => this.zk.delete(this.readyPath));
      } catch (err) {
        if (!(err instanceof NoNodeError)) throw err;
      }
      return true;
    } finally {
      if (ourNodeShouldExist) await deleteGuaranteed(this.zk, this.ourPath);
    }
  }

  /** Member names (not "ready"), sorted: every member agrees on who is lowest and highest. */
  private async members(deadlineMs: number | undefined, signal: AbortSignal | undefined): Promise<string[]> {
    try {
      const names = await retryOnConnectionLoss(this.zk, () => this.zk.getChildren(this.path), {
        deadlineMs,
        signal,
      });
      return names.filter((n) => n !== readyNode).sort();
    } catch (err) {
      if (err instanceof NoNodeError) return [];
      throw err;
    }
  }

  /** internalEnter: the member that completes the group creates "ready"; everyone else waits for it. */
  private async waitForMembers(
    readyFired: Promise<void>,
    deadlineMs: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    const count = (await this.members(deadlineMs, signal)).length;
    if (count >= this.memberQty) {
      try {
        await retryOnConnectionLoss(this.zk, () => this.zk.create(this.readyPath));
      } catch (err) {
        if (!(err instanceof NodeExistsError)) throw err;
      }
      return true;
    }
    return waitForWatch(this.zk, readyFired, deadlineMs, signal);
  }
}
