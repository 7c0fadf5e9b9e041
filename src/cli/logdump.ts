// `corral logdump`: prints (or chops) Corral txn log segments offline, like ZooKeeper's zkTxnLogToolkit.
import { open, readdir, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { CorruptLogError } from "../base/errors.js";
import { zxidHex } from "../base/zxid.js";
import { decodeTxn } from "../protocol/txn-codec.js";
import { fsyncDir } from "../storage/fs-util.js";
import { parseLogFileName, recordPayloadBytesMaxDefault, zxidFollows } from "../storage/format.js";
import type { LogSegmentFile } from "../storage/recovery.js";
import { scanSegment } from "../storage/segment-scan.js";
import {
  describeTxn,
  exitBadData,
  exitOk,
  exitUsage,
  parseZxidArg,
  resolveVersionDir,
  txnJson,
} from "./tool-format.js";

export const logdumpUsage = "logdump <log file | dataLogDir> [--json] [--chop ZXID [--yes]]";

function out(s: string): void {
  process.stdout.write(s + "\n");
}
function err(s: string): void {
  process.stderr.write(`corral logdump: ${s}\n`);
}

class UsageError extends Error {}

/** Every `log.<hex>` in `dir`, oldest first. */
async function segmentsIn(dir: string): Promise<LogSegmentFile[]> {
  const out: LogSegmentFile[] = [];
  for (const name of await readdir(dir)) {
    const zxid = parseLogFileName(name);
    if (zxid !== null) out.push({ zxid, file: join(dir, name) });
  }
  return out.sort((a, b) => (a.zxid < b.zxid ? -1 : a.zxid > b.zxid ? 1 : 0));
}

/**
 * The segments to dump (one file, or every segment of a directory or its `version-2/`) and every
 * segment beside them, oldest first: only the newest of those may end in a torn tail.
 */
async function segmentsOf(target: string): Promise<{ segments: LogSegmentFile[]; all: LogSegmentFile[] }> {
  if ((await stat(target)).isDirectory()) {
    const all = await segmentsIn(await resolveVersionDir(target));
    return { segments: all, all };
  }
  const zxid = parseLogFileName(basename(target));
  if (zxid === null) throw new UsageError(`${target}: not a log segment name (log.<hex zxid>)`);
  const all = await segmentsIn(dirname(target));
  return { segments: all.filter((s) => s.zxid === zxid), all };
}

export async function runLogdump(args: string[]): Promise<number> {
  let values: { json?: boolean; chop?: string; yes?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { json: { type: "boolean" }, chop: { type: "string" }, yes: { type: "boolean" } },
    }));
  } catch (e) {
    err(`${(e as Error).message}\nusage: corral ${logdumpUsage}`);
    return exitUsage;
  }
  if (positionals.length !== 1) {
    err(`usage: corral ${logdumpUsage}`);
    return exitUsage;
  }
  try {
    const { segments, all } = await segmentsOf(positionals[0]);
    if (values.chop !== undefined) {
      const zxid = parseZxidArg(values.chop);
      if (zxid === null) {
        err(`--chop: not a zxid: ${values.chop}`);
        return exitUsage;
      }
      return await chop(all, zxid, values.yes === true);
    }
    return await dump(segments, all, values.json === true);
  } catch (e) {
    if (e instanceof UsageError) {
      err(e.message);
      return exitUsage;
    }
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      err((e as Error).message);
      return exitUsage;
    }
    throw e;
  }
}

async function dump(segments: LogSegmentFile[], all: LogSegmentFile[], json: boolean): Promise<number> {
  const newestFile = all.length > 0 ? all[all.length - 1].file : null;
  let prev: bigint | null = null;
  let count = 0;
  let bad = 0;
  for (const seg of segments) {
    let undecodable = 0;
    try {
      const scan = await scanSegment(seg.file, seg.zxid, {
        newest: seg.file === newestFile,
        repair: false,
        payloadBytesMax: recordPayloadBytesMaxDefault,
        onRecord: (zxid, payload, offset) => {
          if (prev !== null && !zxidFollows(prev, zxid)) {
            throw new CorruptLogError(
              seg.file,
              offset,
              `zxid ${zxidHex(zxid)} does not follow ${zxidHex(prev)}`,
            );
          }
          prev = zxid;
          count++;
          let line: string;
          try {
            const txn = decodeTxn(payload);
            line = json ? JSON.stringify(txnJson(txn, seg.file, offset)) : describeTxn(txn);
          } catch (e) {
            undecodable++;
            const why = `undecodable txn (${payload.length} bytes): ${(e as Error).message}`;
            line = json
              ? JSON.stringify({ file: seg.file, offset, zxid: zxidHex(zxid), error: why })
              : `zxid ${zxidHex(zxid)} ${why}`;
          }
          out(line);
        },
      });
      if (scan.torn !== null) {
        // Recovery would truncate here: the last write was never acknowledged.
        err(`${seg.file}: torn tail at offset ${scan.torn.offset} (${scan.torn.why}); recovery truncates it`);
      }
    } catch (e) {
      if (!(e instanceof CorruptLogError)) throw e;
      err(`corrupt: ${e.file} at offset ${e.offset}: ${e.message}`);
      return exitBadData;
    }
    bad += undecodable;
  }
  if (!json) out(`EOF reached after ${count} txns.`);
  if (bad > 0) {
    err(`${bad} record(s) did not decode as txns`);
    return exitBadData;
  }
  return exitOk;
}

/**
 * Removes every record after `zxid` from the log directory: the segment holding it is cut after it
 * (a torn or corrupt region after it goes too) and later segments are deleted. Dry run unless `yes`.
 */
async function chop(all: LogSegmentFile[], zxid: bigint, yes: boolean): Promise<number> {
  const plan: { file: string; cut: number | null; removed: number }[] = [];
  let found = false;
  for (let i = 0; i < all.length; i++) {
    const seg = all[i];
    if (seg.zxid > zxid) {
      plan.push({ file: seg.file, cut: null, removed: await countRecords(seg) });
      continue;
    }
    let cut = -1;
    let removed = 0;
    try {
      const scan = await scanSegment(seg.file, seg.zxid, {
        newest: i === all.length - 1,
        repair: false,
        payloadBytesMax: recordPayloadBytesMaxDefault,
        onRecord: (z, _p, offset) => {
          if (z === zxid) found = true;
          if (z > zxid) {
            if (cut < 0) cut = offset;
            removed++;
          }
        },
      });
      if (cut < 0 && scan.torn !== null && found) cut = scan.torn.offset;
    } catch (e) {
      if (!(e instanceof CorruptLogError)) throw e;
      // Damage after the chop point is what chopping is for; damage before it is not.
      if (!found) {
        err(`corrupt before zxid ${zxidHex(zxid)}: ${e.file} at offset ${e.offset}: ${e.message}`);
        return exitBadData;
      }
      if (cut < 0) cut = e.offset;
    }
    if (cut >= 0) plan.push({ file: seg.file, cut, removed });
  }
  if (!found) {
    err(`zxid ${zxidHex(zxid)} is not in the log`);
    return exitBadData;
  }
  if (plan.length === 0) {
    out(`nothing after zxid ${zxidHex(zxid)}`);
    return exitOk;
  }
  for (const p of plan) {
    const what =
      p.cut === null
        ? `delete ${p.file} (${p.removed} txns)`
        : `truncate ${p.file} at offset ${p.cut} (${p.removed} txns after it)`;
    out(yes ? what : `would ${what}`);
  }
  if (!yes) {
    out("dry run: nothing changed; pass --yes to chop in place");
    return exitOk;
  }
  for (const p of plan) {
    if (p.cut === null) {
      await unlink(p.file);
      continue;
    }
    const fh = await open(p.file, "r+");
    try {
      await fh.truncate(p.cut);
      await fh.datasync();
    } finally {
      await fh.close();
    }
  }
  await fsyncDir(dirname(all[0].file));
  return exitOk;
}

/** Valid records in a segment about to be deleted; a damaged one is counted up to the damage. */
async function countRecords(seg: LogSegmentFile): Promise<number> {
  let n = 0;
  try {
    await scanSegment(seg.file, seg.zxid, {
      newest: true,
      repair: false,
      payloadBytesMax: recordPayloadBytesMaxDefault,
      onRecord: () => void n++,
    });
  } catch (e) {
    if (!(e instanceof CorruptLogError)) throw e;
  }
  return n;
}
