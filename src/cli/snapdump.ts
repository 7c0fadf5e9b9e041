// `corral snapdump`: prints a snapshot file offline (zxid, counts, and with -d every node), like zkSnapShotToolkit.
import { open } from "node:fs/promises";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { CorruptLogError } from "../base/errors.js";
import { zxidHex } from "../base/zxid.js";
import { parseSnapshotFileName, snapshotHeaderBytes } from "../storage/format.js";
import { readSnapshot } from "../storage/snapshot.js";
import { deserializeTree } from "../storage/tree-snapshot.js";
import type { StatPersisted } from "../tree/data-tree.js";
import { exitBadData, exitOk, exitUsage, hex } from "./tool-format.js";

export const snapdumpUsage = "snapdump <snapshot file> [--json] [-d]";

function err(s: string): void {
  process.stderr.write(`corral snapdump: ${s}\n`);
}

/** The zxid the file's name gives, or (for a renamed copy) the one in its header. */
async function snapshotZxid(file: string): Promise<bigint | null> {
  const named = parseSnapshotFileName(basename(file));
  if (named !== null) return named;
  const fh = await open(file, "r");
  try {
    const b = Buffer.alloc(snapshotHeaderBytes);
    const { bytesRead } = await fh.read(b, 0, b.length, 0);
    return bytesRead === b.length ? b.readBigUInt64BE(8) : null;
  } finally {
    await fh.close();
  }
}

function statJson(s: StatPersisted): Record<string, unknown> {
  return {
    czxid: hex(s.czxid),
    ctime: Number(s.ctime),
    mzxid: hex(s.mzxid),
    mtime: Number(s.mtime),
    pzxid: hex(s.pzxid),
    cversion: s.cversion,
    dataVersion: s.version,
    aclVersion: s.aversion,
    ephemeralOwner: hex(s.ephemeralOwner),
  };
}

function statText(s: StatPersisted): string {
  const t = (ms: bigint): string => new Date(Number(ms)).toISOString();
  return (
    `cZxid=${hex(s.czxid)} ctime=${t(s.ctime)} mZxid=${hex(s.mzxid)} mtime=${t(s.mtime)} ` +
    `pZxid=${hex(s.pzxid)} cversion=${s.cversion} dataVersion=${s.version} aclVersion=${s.aversion} ` +
    `ephemeralOwner=${hex(s.ephemeralOwner)}`
  );
}

export async function runSnapdump(args: string[]): Promise<number> {
  let values: { json?: boolean; details?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { json: { type: "boolean" }, details: { type: "boolean", short: "d" } },
    }));
  } catch (e) {
    err(`${(e as Error).message}\nusage: corral ${snapdumpUsage}`);
    return exitUsage;
  }
  if (positionals.length !== 1) {
    err(`usage: corral ${snapdumpUsage}`);
    return exitUsage;
  }
  const file = positionals[0];
  let zxid: bigint | null;
  try {
    zxid = await snapshotZxid(file);
  } catch (e) {
    err((e as Error).message);
    return exitUsage;
  }
  if (zxid === null) {
    err(`${file}: too short to be a snapshot`);
    return exitBadData;
  }
  const read = await readSnapshot(file, zxid);
  if (!read.ok) {
    err(`${file}: ${read.why}`);
    return exitBadData;
  }
  let tree;
  try {
    tree = deserializeTree(read.bytes, file);
  } catch (e) {
    if (!(e instanceof CorruptLogError)) throw e;
    err(`${file}: payload does not decode at offset ${e.offset}: ${e.message}`);
    return exitBadData;
  }
  const nodes = [...tree.nodes()];
  const sessions = [...tree.sessions].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const details = values.details === true;
  if (values.json === true) {
    const doc: Record<string, unknown> = {
      file,
      zxid: zxidHex(zxid),
      lastProcessedZxid: zxidHex(tree.lastProcessedZxid),
      nodeCount: nodes.length,
      sessionCount: sessions.length,
    };
    if (details) {
      doc.sessions = sessions.map(([id, s]) => ({ id: hex(id), timeOut: s.timeOut }));
      doc.nodes = nodes.map(([path, n]) => ({
        path,
        ...statJson(n.stat),
        dataLength: n.data?.length ?? 0,
      }));
    }
    process.stdout.write(JSON.stringify(doc) + "\n");
    return exitOk;
  }
  const lines = [
    `snapshot ${file}`,
    `zxid ${zxidHex(zxid)}`,
    `nodes ${nodes.length}`,
    `sessions ${sessions.length}`,
  ];
  if (details) {
    for (const [path, n] of nodes)
      lines.push(`${path} ${statText(n.stat)} dataLength=${n.data?.length ?? 0}`);
    for (const [id, s] of sessions) lines.push(`session ${hex(id)} timeOut=${s.timeOut}`);
  }
  process.stdout.write(lines.join("\n") + "\n");
  return exitOk;
}
