// Worker thread entry for serializeFromDisk (snapshot-stream.ts): rebuilds the tree as of a zxid from the data dir
// and posts its serialised chunks back. Reads files only.
import { parentPort, workerData } from "node:worker_threads";
import { serializeAsOf } from "./snapshot-stream.js";

const { dataDir, dataLogDir, zxid } = workerData as { dataDir: string; dataLogDir: string; zxid: bigint };
const chunks = await serializeAsOf(dataDir, dataLogDir, zxid);
// Each distinct buffer once in the transfer list (chunks may share one).
parentPort!.postMessage(chunks, [...new Set(chunks.map((c) => c.buffer as ArrayBuffer))]);
