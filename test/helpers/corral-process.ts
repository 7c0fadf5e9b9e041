// startCorral(): `node bin/corral.js server <zoo.cfg>` from the repository root, on a free loopback port.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ManagedServer, repoRoot, type ServerOptions } from "./managed-process.js";

export const corralBin = join(repoRoot, "bin", "corral.js");

/** Why Corral cannot run here, or undefined. A missing build is a failure, not a skip: see servers.ts. */
export function corralUnavailableReason(): string | undefined {
  if (!existsSync(corralBin)) return `${corralBin} is missing`;
  if (!existsSync(join(repoRoot, "dist", "src", "cli", "main.js")))
    return "dist/src/cli/main.js is missing (run npx tsc -b)";
  return undefined;
}

/**
 * Starts Corral with a zoo.cfg carrying the same keys ZooKeeper gets (see zooCfg in managed-process.ts).
 * The handle's kill9() and restart() reuse the data dir, for durability tests; stop() removes it.
 */
export function startCorral(options: ServerOptions = {}): Promise<ManagedServer> {
  return ManagedServer.start("corral", options, (configPath) => ({
    command: process.execPath,
    args: [corralBin, "server", configPath],
    cwd: repoRoot,
  }));
}
