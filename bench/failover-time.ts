// Failover time: kill -9 the leader of a 3-node ensemble and time until the first write succeeds from a
// client whose connect string names every member. Corral and Apache ZooKeeper 3.8 side by side, with the same
// zoo.cfg timing (tickTime 2000, initLimit 10, syncLimit 5) and the same client (Corral's).
//
// usage: node dist/bench/failover-time.js [--runs N] [--target corral|zookeeper|both] [--session-timeout MS]
//
// Each run: wait until the ensemble has one leader and two followers, connect a fresh session (warm: one
// write), kill -9 the leader, then create sequential nodes until one is acknowledged (a create that fails
// with connection loss is retried at once; while disconnected the client queues it). The killed server is
// restarted and rejoins before the next run. Prints every run and the median. Kills only what it started.
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";
import { NodeExistsError, ZooKeeperClient, type ClientState } from "../src/client/index.js";
import { CorralEnsemble } from "../test/helpers/corral-ensemble.js";
import { waitFor } from "../test/helpers/wait.js";
import {
  startZooKeeperEnsemble,
  zookeeperEnsembleUnavailableReason,
} from "../test/helpers/zookeeper-ensemble.js";

const timing = { tickTime: 2000, initLimit: 10, syncLimit: 5 };
const writeDeadlineMs = 180_000;
const startTimeoutMs = 120_000;

const isTerminal = (s: ClientState): boolean => s === "expired" || s === "auth-failed" || s === "closed";

/** What one run needs from an ensemble, whichever server it runs. */
interface FailoverTarget {
  readonly label: string;
  readonly connectString: string;
  /** Waits for one leader and only followers among the running members; returns a handle to kill it. */
  leader(): Promise<{ id: number; kill9(): Promise<void>; restart(): Promise<void> }>;
  stop(): Promise<void>;
}

async function corralTarget(): Promise<FailoverTarget> {
  const ensemble = await CorralEnsemble.start({ size: 3, ...timing });
  return {
    label: "Corral",
    connectString: ensemble.connectString,
    async leader() {
      const m = await ensemble.waitForQuorum(ensemble.members, startTimeoutMs);
      return {
        id: m.id,
        kill9: () => m.kill9(),
        restart: async () => {
          m.launch();
          await ensemble.waitForQuorum(ensemble.members, startTimeoutMs);
        },
      };
    },
    stop: () => ensemble.stop(),
  };
}

async function zookeeperTarget(): Promise<FailoverTarget> {
  const reason = zookeeperEnsembleUnavailableReason();
  if (reason !== undefined) throw new Error(`Apache ZooKeeper cannot run here: ${reason}`);
  const ensemble = await startZooKeeperEnsemble({ size: 3, ...timing, forceSync: true, startTimeoutMs });
  return {
    label: "ZooKeeper",
    connectString: ensemble.connectString,
    async leader() {
      const s = await ensemble.leader(startTimeoutMs);
      return {
        id: s.id,
        kill9: () => s.kill9(),
        restart: async () => {
          s.launch();
          await s.waitUntilServing(startTimeoutMs);
          await ensemble.leader(startTimeoutMs);
        },
      };
    },
    stop: () => ensemble.stop(),
  };
}

interface RunResult {
  ms: number;
  attempts: number;
  killed: number;
}

async function oneRun(target: FailoverTarget, run: number, sessionTimeoutMs: number): Promise<RunResult> {
  const leader = await target.leader();
  const zk = await ZooKeeperClient.connect(target.connectString, {
    sessionTimeoutMs,
    connectTimeoutMs: 60_000,
  });
  try {
    await zk.create("/failover").catch((e: Error) => {
      if (!(e instanceof NodeExistsError)) throw e;
    });
    await zk.create(`/failover/warm-${run}`);
    const killedAt = performance.now();
    await leader.kill9();
    let attempts = 0;
    for (;;) {
      attempts++;
      try {
        await zk.create(`/failover/r${run}-`, "", { mode: "persistent-sequential" });
        break;
      } catch (e) {
        if (isTerminal(zk.state))
          throw new Error(`session ended (${zk.state}) during failover`, { cause: e });
        if (performance.now() - killedAt > writeDeadlineMs)
          throw new Error(`no write succeeded within ${writeDeadlineMs} ms of the kill`, { cause: e });
        // Retry as soon as the session is connected again (a create sent while disconnected is queued).
        await waitFor(() => zk.state === "connected" || isTerminal(zk.state), {
          timeoutMs: writeDeadlineMs,
          intervalMs: 1,
        });
      }
    }
    const ms = performance.now() - killedAt;
    await leader.restart();
    return { ms, attempts, killed: leader.id };
  } finally {
    await zk.close().catch(() => undefined);
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function measure(
  start: () => Promise<FailoverTarget>,
  runs: number,
  sessionTimeoutMs: number,
): Promise<{ label: string; times: number[] }> {
  const target = await start();
  const times: number[] = [];
  try {
    for (let run = 1; run <= runs; run++) {
      const r = await oneRun(target, run, sessionTimeoutMs);
      times.push(r.ms);
      console.log(
        `${target.label.padEnd(9)} run ${String(run).padStart(2)}: leader ${r.killed} killed, ` +
          `first write after ${r.ms.toFixed(0).padStart(6)} ms (${r.attempts} attempt${r.attempts === 1 ? "" : "s"})`,
      );
    }
  } finally {
    await target.stop();
  }
  console.log(
    `${target.label.padEnd(9)} median ${median(times).toFixed(0)} ms over ${runs} runs ` +
      `(min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)})`,
  );
  return { label: target.label, times };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "10" },
      target: { type: "string", default: "both" },
      "session-timeout": { type: "string", default: "10000" },
    },
  });
  const runs = Number(values.runs);
  const sessionTimeoutMs = Number(values["session-timeout"]);
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`--runs must be a positive integer, not ${values.runs}`);
  if (!Number.isInteger(sessionTimeoutMs) || sessionTimeoutMs < 1)
    throw new Error(`--session-timeout must be a positive integer (ms), not ${values["session-timeout"]}`);
  if (!["corral", "zookeeper", "both"].includes(values.target))
    throw new Error(`--target must be corral, zookeeper or both, not ${values.target}`);
  console.log(
    `failover: kill -9 of the leader of 3 servers → first acknowledged write; tickTime ${timing.tickTime}, ` +
      `initLimit ${timing.initLimit}, syncLimit ${timing.syncLimit}, client session timeout ${sessionTimeoutMs} ms`,
  );
  const results: { label: string; times: number[] }[] = [];
  if (values.target !== "zookeeper") results.push(await measure(corralTarget, runs, sessionTimeoutMs));
  if (values.target !== "corral") results.push(await measure(zookeeperTarget, runs, sessionTimeoutMs));
  if (results.length === 2) {
    const [c, z] = results.map((r) => median(r.times)) as [number, number];
    console.log(
      `median Corral / ZooKeeper: ${(c / z).toFixed(2)} (${c.toFixed(0)} ms vs ${z.toFixed(0)} ms)`,
    );
  }
}

const usage =
  "usage: node dist/bench/failover-time.js [--runs N] [--target corral|zookeeper|both] [--session-timeout MS]";

main().catch((e: unknown) => {
  // A bad command line gets its message and the usage; anything else its stack.
  const bad =
    e instanceof Error &&
    ((e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") || /^--/.test(e.message));
  console.error(
    bad
      ? `failover-time: ${(e as Error).message}\n${usage}`
      : e instanceof Error
        ? (e.stack ?? e.message)
        : String(e),
  );
  process.exitCode = bad ? 2 : 1;
});
