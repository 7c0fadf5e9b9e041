// `corral restore`: offline, puts a backup (a snapshot file from `corral backup` or the admin `snapshot` command)
// into an empty data directory, so that `corral server` with that dataDir starts from it.
import { readdir } from "node:fs/promises";
import { parseArgs } from "node:util";
import { zxidHex } from "../base/zxid.js";
import { writeSnapshot } from "../storage/snapshot.js";
import { loadSnapshotFile } from "../storage/snapshot-stream.js";
import { exitBadData, exitOk, exitUsage } from "./tool-format.js";

export const restoreUsage = "restore --file FILE --data-dir DIR   (DIR must be empty or absent)";

function err(s: string): void {
  process.stderr.write(`corral restore: ${s}\n`);
}

/** The entries of `dir`, or none when it does not exist. */
async function entries(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
}

export async function runRestore(args: string[]): Promise<number> {
  let values: { file?: string; "data-dir"?: string };
  try {
    ({ values } = parseArgs({ args, options: { file: { type: "string" }, "data-dir": { type: "string" } } }));
  } catch (e) {
    err(`${(e as Error).message}\nusage: corral ${restoreUsage}`);
    return exitUsage;
  }
  const file = values.file;
  const dataDir = values["data-dir"];
  if (file === undefined || dataDir === undefined) {
    err(`usage: corral ${restoreUsage}`);
    return exitUsage;
  }
  // A data dir with a log or snapshots would be recovered past (or instead of) the backup: refuse it whole.
  const present = await entries(dataDir);
  if (present.length > 0) {
    err(
      `${dataDir} is not empty (${present.slice(0, 3).join(", ")}${present.length > 3 ? ", ..." : ""}); restore into an empty directory`,
    );
    return exitBadData;
  }
  let loaded;
  try {
    loaded = await loadSnapshotFile(file);
  } catch (e) {
    err(`${file} is not a valid snapshot: ${(e as Error).message}`);
    return exitBadData;
  }
  const written = await writeSnapshot(dataDir, loaded.zxid, [loaded.bytes]);
  process.stdout.write(
    `restored zxid ${zxidHex(loaded.zxid)} (${[...loaded.tree.nodes()].length} nodes, ${loaded.tree.sessions.size} sessions) to ${written}\n`,
  );
  return exitOk;
}
