// The operation records the linearizability checker reads, and a recorder that makes them. No I/O: time comes in.

export type ClientId = number | string;
export type OpKind = "read" | "write" | "cas" | "create" | "delete";

/** The outcome of an operation whose client never learned it (timed out, connection lost). */
export type Unknown = "unknown";

/** What `getData` saw of an existing znode. */
export interface ReadResult {
  exists: true;
  value: string;
  version: number;
}

/** `setData(path, value, version)`; version -1 matches any, as in ZooKeeper. */
export interface SetDataInput {
  value: string;
  version: number;
}

interface OpBase {
  clientId: ClientId;
  key: string;
  /** When the client sent the request. */
  callMs: number;
  /** When the client learned the outcome; null if it never did (then the output is irrelevant). */
  returnMs: number | null;
}

export interface ReadOp extends OpBase {
  kind: "read";
  input: null;
  output: ReadResult | "noNode" | Unknown;
}

/** `write` is an unconditional setData (version -1 by custom), `cas` a conditional one. Same semantics. */
export interface WriteOp extends OpBase {
  kind: "write" | "cas";
  input: SetDataInput;
  /** The new version, as in the returned Stat. */
  output: { version: number } | "badVersion" | "noNode" | Unknown;
}

export interface CreateOp extends OpBase {
  kind: "create";
  input: { value: string };
  output: "ok" | "nodeExists" | Unknown;
}

export interface DeleteOp extends OpBase {
  kind: "delete";
  input: { version: number };
  output: "ok" | "badVersion" | "noNode" | Unknown;
}

export type Operation = ReadOp | WriteOp | CreateOp | DeleteOp;

/** An operation without its observation: what the client asked for. */
export type Invocation =
  | Pick<ReadOp, "kind" | "input">
  | Pick<WriteOp, "kind" | "input">
  | Pick<CreateOp, "kind" | "input">
  | Pick<DeleteOp, "kind" | "input">;

/** The record for kind K (`write` and `cas` share one). */
type OpOf<K extends OpKind> = Operation extends infer T
  ? T extends { kind: infer U }
    ? K extends U
      ? T
      : never
    : never
  : never;
export type InputOf<K extends OpKind> = OpOf<K>["input"];
export type OutputOf<K extends OpKind> = Exclude<OpOf<K>["output"], Unknown>;

/** What the checker needs of any operation record, whatever its model. */
export interface TimedOp {
  clientId: ClientId;
  key: string;
  callMs: number;
  returnMs: number | null;
  output: unknown;
}

/**
 * An indeterminate operation may or may not have taken effect, at any time after its call: the checker
 * treats its return as +infinity and lets it be linearized anywhere after its call, or never.
 */
export function isIndeterminate(op: TimedOp): boolean {
  return op.returnMs === null || op.output === "unknown";
}

/** A pending operation in a recorder. */
export interface OpHandle<K extends OpKind> {
  readonly index: number;
  readonly kind: K;
}

/**
 * Records a history as clients run: `invoke` before sending a request, then `complete` with what came
 * back, or `unknown` when the client gives up on it. Anything still pending at `history()` is indeterminate.
 */
export class HistoryRecorder {
  private readonly ops: Operation[] = [];
  private readonly pending = new Set<number>();

  /** `nowMs` is the simulator's virtual clock or, for real processes, `performance.now`. */
  constructor(private readonly nowMs: () => number) {}

  invoke<K extends OpKind>(clientId: ClientId, key: string, kind: K, input: InputOf<K>): OpHandle<K> {
    const op = { clientId, key, kind, input, output: "unknown", callMs: this.nowMs(), returnMs: null };
    const index = this.ops.push(op as Operation) - 1;
    this.pending.add(index);
    return { index, kind };
  }

  complete<K extends OpKind>(handle: OpHandle<K>, output: OutputOf<K>): void {
    this.settle(handle.index, output);
  }

  /** The client will never know whether this took effect. */
  unknown(handle: OpHandle<OpKind>): void {
    this.settle(handle.index, "unknown");
  }

  history(): Operation[] {
    return this.ops.map((op) => ({ ...op }));
  }

  private settle(index: number, output: Operation["output"]): void {
    if (!this.pending.delete(index)) throw new Error(`operation ${index} settled twice or never invoked`);
    const op = this.ops[index]!;
    const returnMs = this.nowMs();
    if (returnMs < op.callMs) throw new Error(`operation ${index} returned before its call`);
    op.output = output as never;
    // An unknown outcome keeps its give-up time for reading, but the checker ignores it.
    op.returnMs = returnMs;
  }
}
