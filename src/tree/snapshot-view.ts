// A point-in-time view of a DataTree that stays exact while later txns apply: a snapshot is written from it a
// slice at a time without stopping writes. Copy on write: before the tree changes a node the view has not
// handed out yet, it keeps that node as it was (a pre-image). Pure: no I/O, no clock.
import type { ACL } from "../protocol/types.js";
import { assert } from "../base/assert.js";
import { copyStat, type DataNode, type SessionRecord, type StatPersisted } from "./data-tree.js";

/** A node as it was when the view was opened. `stat` is not to be mutated. */
export type VisitNode = (
  path: string,
  data: Uint8Array | null,
  acl: readonly ACL[],
  stat: Readonly<StatPersisted>,
) => void;

/** What a snapshot holds besides the nodes, as of one point. */
export interface SnapshotHead {
  /** The tree's lastProcessedZxid: the snapshot is exactly the state after it. */
  readonly zxid: bigint;
  /** The sessions table, sorted by id. */
  readonly sessions: readonly (readonly [bigint, SessionRecord])[];
  /** Every ACL list in use (each node refers to one of these by identity). */
  readonly acls: readonly (readonly ACL[])[];
}

interface PreImage {
  path: string;
  data: Uint8Array | null;
  acl: readonly ACL[];
  stat: StatPersisted;
}

/**
 * Every node that existed when the view was opened, each exactly once, as it was then; none created after.
 * Nodes come in no particular order (a pre-image can come before its parent): a reader must not need parent
 * first. The tree marks each node it hands out (DataNode.snapshotMark) so that nothing is written twice.
 */
export class SnapshotView {
  private readonly preImages: PreImage[] = [];
  private finished = false;
  private closed = false;

  /**
   * @param mark    a number no earlier view of this tree used
   * @param head    the rest of the state when opened
   * @param entries the tree's live node map iterator (sees later inserts, skips entries deleted before it)
   * @param onClose the tree forgets the view
   */
  constructor(
    readonly mark: number,
    readonly head: SnapshotHead,
    private readonly entries: Iterator<[string, DataNode]>,
    private readonly onClose: () => void,
  ) {}

  /** Called by the tree just before it changes `node` (data, ACL, stat, children) or removes it. */
  preserve(path: string, node: DataNode): void {
    if (node.snapshotMark === this.mark) return;
    node.snapshotMark = this.mark;
    this.preImages.push({ path, data: node.data, acl: node.acl, stat: copyStat(node.stat) });
  }

  /** Called by the tree for a node created while the view is open: the view never hands it out. */
  born(node: DataNode): void {
    node.snapshotMark = this.mark;
  }

  /**
   * Hands up to `max` more nodes to `visit` (kept pre-images first); true once every node has been handed out.
   * Between calls the tree may change freely.
   */
  next(max: number, visit: VisitNode): boolean {
    assert(!this.closed, "snapshot view used after close");
    let n = 0;
    while (n < max && this.preImages.length > 0) {
      const p = this.preImages.pop()!;
      visit(p.path, p.data, p.acl, p.stat);
      n++;
    }
    while (n < max && !this.finished) {
      const e = this.entries.next();
      if (e.done === true) {
        this.finished = true;
        break;
      }
      const [path, node] = e.value;
      if (node.snapshotMark === this.mark) continue;
      node.snapshotMark = this.mark;
      visit(path, node.data, node.acl, node.stat);
      n++;
    }
    return this.finished && this.preImages.length === 0;
  }

  /** Stops keeping pre-images. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.preImages.length = 0;
    this.onClose();
  }
}
