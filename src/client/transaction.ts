// Transaction: the builder behind ZooKeeperClient.transaction(), an atomic multi of create/delete/setData/check.
import type { TransactionResult } from "./errors.js";
import type { CreateOptions, Data } from "./client-options.js";

/** One op of a transaction, with paths as the caller gives them (the client applies the chroot). */
export type TransactionOp =
  | { type: "create"; path: string; data: Data | undefined; options: CreateOptions }
  | { type: "delete"; path: string; version: number }
  | { type: "setData"; path: string; data: Data; version: number }
  | { type: "check"; path: string; version: number };

/**
 * Collects ops; `commit()` sends them as one multi. Every op applies or none does: on failure commit() rejects
 * with the failing op's ZkError subclass, whose `results` and `failedOpIndex` say what happened to each op.
 */
export class Transaction {
  private readonly ops: TransactionOp[] = [];
  private committed = false;

  constructor(private readonly run: (ops: readonly TransactionOp[]) => Promise<TransactionResult[]>) {}

  create(path: string, data?: Data, options: CreateOptions = {}): this {
    this.ops.push({ type: "create", path, data, options });
    return this;
  }

  /** Version -1 matches any version. */
  delete(path: string, version = -1): this {
    this.ops.push({ type: "delete", path, version });
    return this;
  }

  setData(path: string, data: Data, version = -1): this {
    this.ops.push({ type: "setData", path, data, version });
    return this;
  }

  /** Fails the transaction unless `path` exists at `version` (-1: exists at all). */
  check(path: string, version: number): this {
    this.ops.push({ type: "check", path, version });
    return this;
  }

  get size(): number {
    return this.ops.length;
  }

  /** Sends the ops once; a second commit() rejects. */
  commit(): Promise<TransactionResult[]> {
    if (this.committed) return Promise.reject(new Error("transaction already committed"));
    this.committed = true;
    return this.run(this.ops.slice());
  }
}
