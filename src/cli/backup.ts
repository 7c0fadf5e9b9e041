// `corral backup`: saves a live server's snapshot from its admin server (GET /commands/snapshot?streaming=true),
// checks that the file parses, and prints its zxid. The file is renamed into place only once it checks out.
import { createWriteStream } from "node:fs";
import { rename, unlink } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream } from "node:stream/web";
import { parseArgs } from "node:util";
import { zxidHex } from "../base/zxid.js";
import { loadSnapshotFile } from "../storage/snapshot-stream.js";
import { exitBadData, exitOk, exitUsage } from "./tool-format.js";

export const backupUsage =
  "backup --server host:adminPort [--auth user:password] [--command-url /commands] --out FILE";

function err(s: string): void {
  process.stderr.write(`corral backup: ${s}\n`);
}

export async function runBackup(args: string[]): Promise<number> {
  let values: { server?: string; auth?: string; out?: string; "command-url"?: string };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        server: { type: "string" },
        auth: { type: "string" },
        out: { type: "string" },
        "command-url": { type: "string" },
      },
    }));
  } catch (e) {
    err(`${(e as Error).message}\nusage: corral ${backupUsage}`);
    return exitUsage;
  }
  const { server, auth, out } = values;
  if (server === undefined || out === undefined || !/^[^\s/]+:\d+$/.test(server)) {
    err(`usage: corral ${backupUsage}`);
    return exitUsage;
  }
  if (auth !== undefined && !auth.includes(":")) {
    err("--auth must be user:password");
    return exitUsage;
  }
  const url = `http://${server}${values["command-url"] ?? "/commands"}/snapshot?streaming=true`;
  let res: Response;
  try {
    res = await fetch(url, { headers: auth === undefined ? {} : { authorization: `digest ${auth}` } });
  } catch (e) {
    err(
      `cannot reach ${url}: ${(e as Error).cause instanceof Error ? (e as Error).cause : (e as Error).message}`,
    );
    return exitBadData;
  }
  if (res.status !== 200 || res.body === null) {
    const text = await res.text();
    let why = text.trim();
    try {
      why = String((JSON.parse(text) as { error?: unknown }).error ?? why);
    } catch {
      // not JSON: print it as it is
    }
    err(`${url} answered ${res.status}: ${why}`);
    return exitBadData;
  }
  const temp = `${out}.partial.${process.pid}`;
  try {
    await pipeline(
      Readable.fromWeb(res.body as ReadableStream<Uint8Array>),
      createWriteStream(temp, { flags: "wx" }),
    );
    const { zxid, tree } = await loadSnapshotFile(temp);
    const header = res.headers.get("last_zxid");
    if (header !== null && BigInt(header) !== zxid) {
      err(`the snapshot holds zxid ${zxidHex(zxid)} but the server said ${header}`);
      return exitBadData;
    }
    await rename(temp, out);
    process.stdout.write(
      `zxid ${zxidHex(zxid)}\nnodes ${[...tree.nodes()].length}\nsessions ${tree.sessions.size}\n`,
    );
    return exitOk;
  } catch (e) {
    err((e as Error).message.replaceAll(temp, out));
    return exitBadData;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}
