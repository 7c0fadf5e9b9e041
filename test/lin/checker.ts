// Linearizability checker: Wing & Gong's search with Lowe's memo, as Porcupine does it, one key at a time.
// Test-only: reads a clock (injectable) for its time box; no other I/O.
import { SeededPrng } from "../../src/base/clock.js";
import { isIndeterminate, type TimedOp } from "./history.js";
import type { Model } from "./model.js";

export interface CheckOptions {
  /** Time box for the whole check; past it the answer is "unknown". Minimising a failure gets as long again. */
  timeoutMs: number;
  /** Milliseconds, monotonic; `performance.now` unless given (tests inject a fake to time out deterministically). */
  nowMs?: () => number;
  /** Shrink a failure to its shortest failing prefix (default true). */
  minimize?: boolean;
}

export type CheckResult<O> =
  | { ok: true }
  | { ok: "unknown"; keys: string[]; explanation: string }
  | {
      ok: false;
      key: string;
      /** The op whose return first makes the key's history non-linearizable. */
      culprit: O;
      /**
       * The key's ops called no later than the culprit returned: non-linearizable on its own when those
       * that returned after that instant are taken as indeterminate. Sorted by call time.
       */
      minimalPrefix: O[];
      /** The longest sequence of those ops the search could linearize, in linearization order. */
      linearized: O[];
      explanation: string;
    };

/** Checks the clock once per this many search steps. */
const clockCheckStepsMax = 1024;
/** Lines of ops listed in an explanation. */
const explanationOpsMax = 40;

export function checkLinearizable<S, O extends TimedOp>(
  history: readonly O[],
  model: Model<S, O>,
  options: CheckOptions,
): CheckResult<O> {
  const nowMs = options.nowMs ?? (() => performance.now());
  const deadline = nowMs() + options.timeoutMs;
  const byKey = new Map<string, O[]>();
  for (const op of history) {
    if (!Number.isFinite(op.callMs)) throw new Error(`operation has no call time: ${model.describeOp(op)}`);
    if (op.returnMs !== null && op.returnMs < op.callMs) {
      throw new Error(`operation returned before its call: ${model.describeOp(op)}`);
    }
    let ops = byKey.get(op.key);
    if (ops === undefined) byKey.set(op.key, (ops = []));
    ops.push(op);
  }
  const timedOut: string[] = [];
  for (const key of [...byKey.keys()].sort()) {
    const ops = byKey.get(key)!;
    const result = searchKey(ops, model, model.init(key), deadline, nowMs);
    if (result.kind === "timeout") timedOut.push(key);
    if (result.kind !== "fail") continue;
    if (options.minimize === false) {
      const t = ops.reduce((m, op) => (isIndeterminate(op) ? m : Math.max(m, op.returnMs!)), -Infinity);
      return failure(
        key,
        [...ops].sort((a, b) => a.callMs - b.callMs),
        result,
        model,
        t,
      );
    }
    return minimize(key, ops, result, model, nowMs() + options.timeoutMs, nowMs);
  }
  if (timedOut.length === 0) return { ok: true };
  return {
    ok: "unknown",
    keys: timedOut,
    explanation: `no verdict within ${options.timeoutMs} ms for key(s) ${timedOut.join(", ")}; the others are linearizable`,
  };
}

type SearchResult<S, O> =
  { kind: "ok" } | { kind: "timeout" } | { kind: "fail"; linearized: O[]; stateAfter: S };

/** A call or return event in the doubly linked list the search lifts operations out of. */
interface Entry {
  readonly op: number;
  readonly isCall: boolean;
  readonly timeMs: number;
  /** For a call, its return. */
  match: Entry | null;
  prev: Entry | null;
  next: Entry | null;
}

interface Frame<S> {
  entry: Entry;
  state: S;
  hash: number;
  /**
   * The op left the state as it was. If it may be linearized now, some linearization from here (if any)
   * puts it first: it is minimal, so nothing pending must precede it, and it changes nothing for the ops
   * after it. So when everything after it fails, so does every alternative to it: backtrack past it.
   */
  forced: boolean;
}

/**
 * Porcupine's checkSingle: walk the events; at a call, try to linearize that op now (if the model accepts
 * its output and the (linearized set, state) pair is new, lift it out and restart from the front); at the
 * return of an op not yet linearized, backtrack. Iterative, so history length does not bound stack depth.
 */
function searchKey<S, O extends TimedOp>(
  all: readonly O[],
  model: Model<S, O>,
  initial: S,
  deadline: number,
  nowMs: () => number,
): SearchResult<S, O> {
  // An indeterminate read explains nothing and changes nothing.
  const ops = all.filter((op) => !(isIndeterminate(op) && model.isReadOnly(op)));
  const indeterminate = ops.map((op) => isIndeterminate(op));
  const head = buildEntries(ops, indeterminate);
  const words = Math.max(1, Math.ceil(ops.length / 32));
  const linearized = new Uint32Array(words);
  // Zobrist hashing: the linearized set's hash is the xor of its ops' random words, updated in O(1).
  const prng = new SeededPrng(0x5eed);
  const zobrist = ops.map(() => prng.nextUint32());
  const memo = new Map<string, Uint32Array[]>();
  const stack: Frame<S>[] = [];
  let remaining = indeterminate.filter((x) => !x).length;
  let state = initial;
  let hash = 0;
  let deepest: number[] = [];
  let deepestState = initial;
  let steps = 0;
  let entry = head.next;
  while (remaining > 0) {
    if (++steps % clockCheckStepsMax === 0 && nowMs() > deadline) return { kind: "timeout" };
    if (entry === null) throw new Error("search ran off the end of the history");
    const id = entry.op;
    let failed = !entry.isCall;
    if (entry.isCall) {
      const { ok, next } = model.step(state, ops[id]!);
      const nextKey = ok ? model.stateKey(next) : "";
      const noEffect = ok && nextKey === model.stateKey(state);
      // Linearizing an indeterminate op to no effect is never needed: leaving it out keeps every option.
      if (ok && !(indeterminate[id] && noEffect)) {
        const word = id >>> 5;
        const bit = 1 << (id & 31);
        linearized[word]! |= bit;
        const nextHash = (hash ^ zobrist[id]!) >>> 0;
        if (remember(memo, `${nextHash}|${nextKey}`, linearized)) {
          stack.push({ entry, state, hash, forced: noEffect });
          state = next;
          hash = nextHash;
          if (!indeterminate[id]) remaining--;
          lift(entry);
          entry = head.next;
          continue;
        }
        linearized[word]! &= ~bit;
        // A forced op's successor was explored and failed, so this configuration fails too.
        failed = noEffect;
      }
      if (!failed) {
        entry = entry.next;
        continue;
      }
    }
    // The return of an op not yet linearized, or a dead forced op: every order from here fails.
    if (!entry.isCall && indeterminate[id])
      throw new Error("search reached the return of an indeterminate op");
    // The deepest point is always just before a backtrack: record it there, not at every step.
    if (stack.length > deepest.length) {
      deepest = stack.map((f) => f.entry.op);
      deepestState = state;
    }
    let frame: Frame<S> | undefined;
    do {
      frame = stack.pop();
      if (frame === undefined) {
        return { kind: "fail", linearized: deepest.map((i) => ops[i]!), stateAfter: deepestState };
      }
      linearized[frame.entry.op >>> 5]! &= ~(1 << (frame.entry.op & 31));
      state = frame.state;
      hash = frame.hash;
      if (!indeterminate[frame.entry.op]) remaining++;
      unlift(frame.entry);
    } while (frame.forced);
    entry = frame.entry.next;
  }
  return { kind: "ok" };
}

/** Adds (set, state) to the memo; false if it was already there. */
function remember(memo: Map<string, Uint32Array[]>, key: string, linearized: Uint32Array): boolean {
  let bucket = memo.get(key);
  if (bucket === undefined) memo.set(key, (bucket = []));
  for (const seen of bucket) {
    let same = true;
    for (let i = 0; i < seen.length && same; i++) same = seen[i] === linearized[i];
    if (same) return false;
  }
  bucket.push(linearized.slice());
  return true;
}

/**
 * Events sorted by time; an indeterminate op returns at +infinity. At equal times calls come first, so ops
 * that merely touch are taken as concurrent: a clock's resolution cannot order them.
 */
function buildEntries(ops: readonly TimedOp[], indeterminate: readonly boolean[]): Entry {
  const entries: Entry[] = [];
  ops.forEach((op, id) => {
    const call: Entry = { op: id, isCall: true, timeMs: op.callMs, match: null, prev: null, next: null };
    const ret: Entry = {
      op: id,
      isCall: false,
      timeMs: indeterminate[id] ? Infinity : op.returnMs!,
      match: null,
      prev: null,
      next: null,
    };
    call.match = ret;
    entries.push(call, ret);
  });
  entries.sort((a, b) => a.timeMs - b.timeMs || Number(b.isCall) - Number(a.isCall) || a.op - b.op);
  const head: Entry = { op: -1, isCall: false, timeMs: -Infinity, match: null, prev: null, next: null };
  let last = head;
  for (const e of entries) {
    last.next = e;
    e.prev = last;
    last = e;
  }
  return head;
}

/** Takes a call and its return out of the list. A call always has a successor: its return. */
function lift(call: Entry): void {
  call.prev!.next = call.next;
  call.next!.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next !== null) ret.next.prev = ret.prev;
}

function unlift(call: Entry): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next !== null) ret.next.prev = ret;
  call.prev!.next = call;
  call.next!.prev = call;
}

/**
 * The history up to instant t: ops called by then, those that had not returned by then made indeterminate.
 * If it is not linearizable, neither is any longer prefix, so the shortest failing one is found by bisection.
 */
function prefixAt<O extends TimedOp>(ops: readonly O[], t: number, originals: Map<O, O>): O[] {
  return ops
    .filter((op) => op.callMs <= t)
    .map((op) => {
      if (!isIndeterminate(op) && op.returnMs! <= t) return op;
      const copy = { ...op, returnMs: null, output: "unknown" } as O;
      originals.set(copy, op);
      return copy;
    });
}

function minimize<S, O extends TimedOp>(
  key: string,
  ops: readonly O[],
  whole: SearchResult<S, O> & { kind: "fail" },
  model: Model<S, O>,
  deadline: number,
  nowMs: () => number,
): CheckResult<O> {
  const returns = [...new Set(ops.filter((op) => !isIndeterminate(op)).map((op) => op.returnMs!))].sort(
    (a, b) => a - b,
  );
  // Invariant: the prefix at returns[hi] fails (the last one is the whole history, modulo ops called after
  // every return, which are indeterminate and can go last). A timed-out probe counts as passing.
  let lo = 0;
  let hi = returns.length - 1;
  let best = whole;
  const originals = new Map<O, O>();
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const result = searchKey(
      prefixAt(ops, returns[mid]!, originals),
      model,
      model.init(key),
      deadline,
      nowMs,
    );
    if (result.kind === "fail") {
      hi = mid;
      best = result;
    } else {
      lo = mid + 1;
    }
  }
  const t = returns[hi]!;
  if (best === whole && hi < returns.length - 1) {
    const result = searchKey(prefixAt(ops, t, originals), model, model.init(key), deadline, nowMs);
    if (result.kind === "fail") best = result;
  }
  const prefix = ops.filter((op) => op.callMs <= t).sort((a, b) => a.callMs - b.callMs);
  const linearized = best.linearized.map((op) => originals.get(op) ?? op);
  return failure(key, prefix, { ...best, linearized }, model, t);
}

function failure<S, O extends TimedOp>(
  key: string,
  prefix: O[],
  result: SearchResult<S, O> & { kind: "fail" },
  model: Model<S, O>,
  t: number,
): CheckResult<O> & { ok: false } {
  const linearized = result.linearized;
  const done = new Set(linearized);
  const returning = prefix.filter((op) => !isIndeterminate(op) && op.returnMs === t);
  const culprit = returning.find((op) => !done.has(op)) ?? returning[0]!;
  const lines = [
    `key ${key} is not linearizable: no order of its ${prefix.length} operation(s) called by ${t} explains`,
    `  ${model.describeOp(culprit)}`,
    `(operations still outstanding at ${t} may take effect or not, at any time after their call).`,
    `The longest linearization found (${linearized.length} op(s)) ends in state ${model.describeState(result.stateAfter)},`,
    `in which that operation would have returned ${model.describeExpected(result.stateAfter, culprit)}.`,
    `Operations, by call time (* = in that linearization):`,
  ];
  const shown = prefix.slice(-explanationOpsMax);
  if (shown.length < prefix.length) lines.push(`  … ${prefix.length - shown.length} earlier`);
  for (const op of shown) lines.push(`${done.has(op) ? "* " : "  "}${model.describeOp(op)}`);
  return { ok: false, key, culprit, minimalPrefix: prefix, linearized, explanation: lines.join("\n") };
}
