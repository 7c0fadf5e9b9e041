// Random histories that are linearizable by construction, to exercise and time the checker. Seeded; no I/O.
import { SeededPrng } from "../../src/base/clock.js";
import type { Invocation, Operation } from "./history.js";
import { absentZnode, applyZnode, type ZnodeState } from "./model.js";

export interface RandomHistoryOptions {
  seed: number;
  clients: number;
  opsPerClient: number;
  keys: readonly string[];
  /** Chance in 1000 that an op's client never learns its outcome (half of those take effect). */
  indeterminatePerMille?: number;
}

interface Planned {
  clientId: number;
  seq: number;
  key: string;
  callMs: number;
  /** When the op takes effect; null if it never does. */
  effectMs: number | null;
  returnMs: number;
  indeterminate: boolean;
  roll: number;
}

/**
 * Each client runs its ops one after another; each takes effect at an instant between its call and return,
 * and the outputs are computed by applying them to real znodes in the order of those instants. An
 * indeterminate op takes effect up to 30 ms after its client gave up, or never.
 */
export function randomLinearizableHistory(options: RandomHistoryOptions): Operation[] {
  const prng = new SeededPrng(options.seed);
  const indeterminatePerMille = options.indeterminatePerMille ?? 0;
  const planned: Planned[] = [];
  for (let clientId = 0; clientId < options.clients; clientId++) {
    let t = prng.below(5);
    for (let seq = 0; seq < options.opsPerClient; seq++) {
      const callMs = t + prng.below(3);
      const indeterminate = prng.below(1000) < indeterminatePerMille;
      let effectMs: number | null = callMs + prng.below(4);
      let returnMs = effectMs + prng.below(4);
      if (indeterminate) {
        returnMs = callMs + 5;
        effectMs = prng.below(2) === 0 ? null : callMs + prng.below(35);
      }
      const key = options.keys[prng.below(options.keys.length)]!;
      planned.push({
        clientId,
        seq,
        key,
        callMs,
        effectMs,
        returnMs,
        indeterminate,
        roll: prng.nextUint32(),
      });
      t = returnMs;
    }
  }
  const byEffect = [...planned].sort(
    (a, b) => (a.effectMs ?? Infinity) - (b.effectMs ?? Infinity) || a.clientId - b.clientId || a.seq - b.seq,
  );
  const znodes = new Map<string, ZnodeState>(options.keys.map((k) => [k, absentZnode]));
  const history: Operation[] = [];
  for (const p of byEffect) {
    const state = znodes.get(p.key)!;
    // Chosen against the current state so that cas and delete succeed often enough to matter.
    const invocation = invent(p, state);
    const { output, next } = applyZnode(state, invocation);
    if (p.effectMs !== null) znodes.set(p.key, next);
    const op = {
      clientId: p.clientId,
      key: p.key,
      ...invocation,
      output: p.indeterminate ? "unknown" : output,
      callMs: p.callMs,
      returnMs: p.indeterminate && (p.roll >>> 16) % 2 === 0 ? null : p.returnMs,
    } as Operation;
    history.push(op);
  }
  return history.sort((a, b) => a.callMs - b.callMs);
}

function invent(p: Planned, state: ZnodeState): Invocation {
  const r = p.roll % 100;
  const value = `c${p.clientId}-${p.seq}`;
  const version = (p.roll >>> 8) % 3 === 0 ? state.version - 1 : state.version;
  if (r < 40) return { kind: "read", input: null };
  if (r < 60) return { kind: "write", input: { value, version: -1 } };
  if (r < 80) return { kind: "cas", input: { value, version } };
  if (r < 90) return { kind: "create", input: { value } };
  return { kind: "delete", input: { version: (p.roll >>> 8) % 2 === 0 ? -1 : version } };
}
