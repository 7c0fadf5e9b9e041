// The whole-stack deterministic simulator from the command line (TigerBeetle's VOPR style).
//   npm run sim -- --seed N [--ticks T]      one seed, verbose: its trace, then its verdict
//   npm run sim -- --seeds N [--from S]      many seeds: a progress line, a summary, the first failures
//   --avoid null-data                       make every create carry data (a known-bug switch; see corral-run.ts)
// Exit codes: 0 every seed passed; 2 crash (an assertion or exception); 3 liveness (no convergence once
// faults stopped); 4 correctness (an invariant or linearizability); 1 bad usage. With several kinds of
// failure the most serious wins: correctness, then crash, then liveness.
import { performance } from "node:perf_hooks";
import { classify, exitCodes, knownBugs, runCorralSeed } from "../dist/test/sim/corral-run.js";

function usage(msg) {
  if (msg) console.error(`sim: ${msg}`);
  console.error(
    "usage: npm run sim -- --seed N | --seeds N [--from S] [--stop-after K]; both take [--ticks T] [--avoid null-data]",
  );
  process.exit(1);
}

const args = process.argv.slice(2);
const opts = {};
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (!a.startsWith("--")) usage(`unexpected argument ${a}`);
  const v = args[i + 1];
  i++;
  if (a === "--avoid") {
    for (const b of (v ?? "").split(","))
      if (!knownBugs.includes(b)) usage(`--avoid takes ${knownBugs.join(",")}`);
    opts.avoid = v;
    continue;
  }
  if (v === undefined || !/^\d+$/.test(v)) usage(`${a} needs a non-negative integer`);
  opts[a.slice(2)] = Number(v);
}
for (const k of Object.keys(opts))
  if (!["seed", "seeds", "from", "ticks", "stop-after", "avoid"].includes(k)) usage(`unknown option --${k}`);
if ((opts.seed === undefined) === (opts.seeds === undefined)) usage("give exactly one of --seed and --seeds");
const ticksArg =
  (opts.ticks !== undefined ? ` --ticks ${opts.ticks}` : "") +
  (opts.avoid !== undefined ? ` --avoid ${opts.avoid}` : "");
const runOpts = {
  ...(opts.ticks !== undefined ? { safetyTicks: opts.ticks } : {}),
  ...(opts.avoid !== undefined ? { avoid: new Set(opts.avoid.split(",")) } : {}),
};

if (opts.seed !== undefined) {
  const seed = opts.seed;
  const started = performance.now();
  try {
    const r = runCorralSeed(seed, {
      ...runOpts,
      digestEveryApply: true,
      linTimeoutMs: 60_000,
      log: (l) => console.log(l),
    });
    console.log(
      `seed ${seed}: ok in ${Math.round(performance.now() - started)} ms: ${r.commits} commits, ${r.epochs} epochs, ` +
        `${r.ops} client ops (${r.indeterminate} indeterminate), ${r.crashes} crashes, ${r.tornWrites} torn writes ` +
        `(${r.tornDiscarded} discarded on recovery), ${r.forwarded} forwarded, ${r.syncs} learner syncs${r.linUnknown ? ", linearizability: NO VERDICT in time" : ""}`,
    );
    process.exit(0);
  } catch (e) {
    const kind = classify(e);
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    console.error(
      `seed ${seed}: FAILED (${kind}, exit ${exitCodes[kind]}); reproduce: npm run sim -- --seed ${seed}${ticksArg}`,
    );
    process.exit(exitCodes[kind]);
  }
}

const count = opts.seeds;
const from = opts.from ?? 1;
const stopAfter = opts["stop-after"] ?? Infinity;
const failures = [];
const byKind = { crash: 0, liveness: 0, correctness: 0 };
let commits = 0;
let forwarded = 0;
let syncs = 0;
let ops = 0;
let linUnknown = 0;
let torn = 0;
const started = performance.now();
let lastProgress = 0;
let done = 0;
for (let seed = from; seed < from + count; seed++) {
  try {
    const r = runCorralSeed(seed, runOpts);
    commits += r.commits;
    ops += r.ops;
    torn += r.tornDiscarded;
    forwarded += r.forwarded;
    syncs += r.syncs;
    if (r.linUnknown) linUnknown++;
  } catch (e) {
    const kind = classify(e);
    byKind[kind]++;
    const first = (e instanceof Error ? e.message : String(e)).split("\n").slice(0, 6).join("\n    ");
    failures.push({ seed, kind, first });
    console.log(`\nseed ${seed}: ${kind}: ${first}\n  reproduce: npm run sim -- --seed ${seed}${ticksArg}`);
  }
  done++;
  const now = performance.now();
  if (now - lastProgress > 5000 || seed === from + count - 1) {
    lastProgress = now;
    const rate = done / ((now - started) / 1000);
    console.log(
      `[${done}/${count}] ${rate.toFixed(1)} seeds/s, ${failures.length} failed ` +
        `(crash ${byKind.crash}, liveness ${byKind.liveness}, correctness ${byKind.correctness}), ${linUnknown} lin no-verdict`,
    );
  }
  if (failures.length >= stopAfter) break;
}
const secs = ((performance.now() - started) / 1000).toFixed(1);
console.log(
  `\nsummary: ${done} seeds (${from}..${from + done - 1}) in ${secs} s; ${commits} commits, ${ops} client ops, ` +
    `${torn} torn records discarded, ${forwarded} forwarded by learners, ${syncs} learner syncs; ${linUnknown} linearizability checks without a verdict; ${failures.length} failures`,
);
for (const f of failures.slice(0, 10))
  console.log(`  seed ${f.seed} (${f.kind}): npm run sim -- --seed ${f.seed}${ticksArg}`);
const worst =
  byKind.correctness > 0
    ? "correctness"
    : byKind.crash > 0
      ? "crash"
      : byKind.liveness > 0
        ? "liveness"
        : "ok";
process.exit(exitCodes[worst]);
