// `corral cleanup`: zkCleanup.sh offline: keep the newest N snapshots and the log segments they need.
import { parseArgs } from "node:util";
import { ConfigError } from "../base/errors.js";
import { purge } from "../storage/purge.js";
import { exitOk, exitUsage } from "./tool-format.js";

export const cleanupUsage = "cleanup <dataDir> [dataLogDir] -n N   (N >= 3)";

function err(s: string): void {
  process.stderr.write(`corral cleanup: ${s}\n`);
}

export async function runCleanup(args: string[]): Promise<number> {
  let values: { count?: string };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { count: { type: "string", short: "n" } },
    }));
  } catch (e) {
    err(`${(e as Error).message}\nusage: corral ${cleanupUsage}`);
    return exitUsage;
  }
  if (positionals.length < 1 || positionals.length > 2 || values.count === undefined) {
    err(`usage: corral ${cleanupUsage}`);
    return exitUsage;
  }
  const count = /^[0-9]+$/.test(values.count) ? Number(values.count) : NaN;
  const [dataDir, dataLogDir = dataDir] = positionals;
  let removed: string[];
  try {
    ({ removed } = await purge(dataDir, dataLogDir, count));
  } catch (e) {
    if (e instanceof ConfigError) {
      err(`-n must be an integer of at least 3, got ${values.count}`);
      return exitUsage;
    }
    throw e;
  }
  for (const f of removed) process.stdout.write(`removed ${f}\n`);
  process.stdout.write(`${removed.length} file(s) removed\n`);
  return exitOk;
}
