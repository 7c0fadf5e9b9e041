// The server an interop test runs against: Corral (default) or Apache ZooKeeper, chosen by INTEROP_TARGET.
import { corralUnavailableReason, startCorral } from "./corral-process.js";
import type { ManagedServer, ServerKind, ServerOptions } from "./managed-process.js";
import { zookeeperUnavailableReason, startZooKeeper } from "./zookeeper-process.js";

export type { ManagedServer, ServerKind, ServerOptions } from "./managed-process.js";

/** INTEROP_TARGET=zookeeper runs the interop tests against Apache ZooKeeper; anything else is an error. */
export function interopTarget(): ServerKind {
  const target = process.env.INTEROP_TARGET ?? "corral";
  if (target !== "corral" && target !== "zookeeper")
    throw new Error(`INTEROP_TARGET must be "corral" or "zookeeper", not ${JSON.stringify(target)}`);
  return target;
}

export const inCi = process.env.CI === "true";

export function startServer(kind: ServerKind, options: ServerOptions = {}): Promise<ManagedServer> {
  return kind === "corral" ? startCorral(options) : startZooKeeper(options);
}

/**
 * The `skip` option for a test that needs `kind` (and the given external tools): a reason when something is
 * missing on a developer machine; undefined in CI (CI=true), where a missing package must fail the test.
 * Corral is never skipped: an unbuilt server is a failure.
 */
export function skipReason(kind: ServerKind, ...more: Array<string | undefined>): string | undefined {
  if (inCi) return undefined;
  const reasons = [kind === "zookeeper" ? zookeeperUnavailableReason() : undefined, ...more].filter(
    (r): r is string => r !== undefined,
  );
  return reasons.length > 0 ? reasons.join("; ") : undefined;
}

export { corralUnavailableReason };
