// One znode per key as a sequential specification for the checker. Pure: no I/O, no clock, no randomness.
import type { Invocation, Operation, ReadResult, TimedOp } from "./history.js";

/** A sequential specification. Operations of different keys never interact (P-compositionality). */
export interface Model<S, O extends TimedOp> {
  /** The state of `key` before any operation. */
  init(key: string): S;
  /**
   * Applies op to state. `ok` says whether op's observed output is what the model gives in this state; an
   * op whose output is "unknown" must be accepted in every state, with `next` the state its effect gives.
   */
  step(state: S, op: O): { ok: boolean; next: S };
  /** Equal states have equal keys: the memo of (linearized set, state) relies on it. */
  stateKey(state: S): string;
  /** An indeterminate read-only op explains nothing and changes nothing: the checker drops it. */
  isReadOnly(op: O): boolean;
  describeOp(op: O): string;
  describeState(state: S): string;
  /** What op would have returned in state, for the failure explanation. */
  describeExpected(state: S, op: O): string;
}

export interface ZnodeState {
  readonly exists: boolean;
  readonly value: string;
  readonly version: number;
}

/** Absent znodes are all alike: one state, so the memo can merge them. */
export const absentZnode: ZnodeState = { exists: false, value: "", version: 0 };

export type ZnodeOutput = Exclude<Operation["output"], "unknown">;

/**
 * What ZooKeeper does with one request on one znode: mirrors the checks of PrepRequestProcessor
 * (NoNode, NodeExists, BadVersion) and DataTree.setData's version bump; create starts at version 0.
 */
export function applyZnode(state: ZnodeState, op: Invocation): { output: ZnodeOutput; next: ZnodeState } {
  switch (op.kind) {
    case "read": {
      const output: ZnodeOutput = state.exists
        ? { exists: true, value: state.value, version: state.version }
        : "noNode";
      return { output, next: state };
    }
    case "write":
    case "cas": {
      if (!state.exists) return { output: "noNode", next: state };
      if (op.input.version !== -1 && op.input.version !== state.version) {
        return { output: "badVersion", next: state };
      }
      const version = state.version + 1;
      return { output: { version }, next: { exists: true, value: op.input.value, version } };
    }
    case "create":
      if (state.exists) return { output: "nodeExists", next: state };
      return { output: "ok", next: { exists: true, value: op.input.value, version: 0 } };
    case "delete":
      if (!state.exists) return { output: "noNode", next: state };
      if (op.input.version !== -1 && op.input.version !== state.version) {
        return { output: "badVersion", next: state };
      }
      return { output: "ok", next: absentZnode };
  }
}

function sameOutput(a: ZnodeOutput, b: ZnodeOutput): boolean {
  if (typeof a === "string" || typeof b === "string") return a === b;
  const ra = a as Partial<ReadResult>;
  const rb = b as Partial<ReadResult>;
  return ra.version === rb.version && ra.value === rb.value && ra.exists === rb.exists;
}

export function describeOutput(output: Operation["output"]): string {
  if (typeof output === "string") return output;
  if ("value" in output) return `${JSON.stringify(output.value)}@v${output.version}`;
  return `ok@v${output.version}`;
}

export function describeInvocation(op: Invocation): string {
  switch (op.kind) {
    case "read":
      return "read()";
    case "write":
    case "cas":
      return `${op.kind}(${JSON.stringify(op.input.value)}, v${op.input.version})`;
    case "create":
      return `create(${JSON.stringify(op.input.value)})`;
    case "delete":
      return `delete(v${op.input.version})`;
  }
}

export interface ZnodeModelOptions {
  /** The znode each key starts as; absent unless given. */
  initial?: (key: string) => ZnodeState;
}

/** The znode model the simulator and the integration tests check Corral against. */
export function znodeModel(options: ZnodeModelOptions = {}): Model<ZnodeState, Operation> {
  const initial = options.initial ?? (() => absentZnode);
  return {
    init: (key) => {
      const s = initial(key);
      return s.exists ? s : absentZnode;
    },
    step(state, op) {
      const { output, next } = applyZnode(state, op);
      if (op.output === "unknown" || sameOutput(output, op.output)) return { ok: true, next };
      return { ok: false, next: state };
    },
    stateKey: (s) => (s.exists ? `${s.version}:${s.value}` : "-"),
    isReadOnly: (op) => op.kind === "read",
    describeOp(op) {
      const returned = op.returnMs === null ? "never returned" : `returned ${op.returnMs}`;
      return `client ${op.clientId} ${describeInvocation(op)} → ${describeOutput(op.output)} [called ${op.callMs}, ${returned}]`;
    },
    describeState: (s) => (s.exists ? `${JSON.stringify(s.value)}@v${s.version}` : "absent"),
    describeExpected: (state, op) => describeOutput(applyZnode(state, op).output),
  };
}
