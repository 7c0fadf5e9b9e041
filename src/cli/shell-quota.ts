// `corral shell`'s setquota, listquota and delquota: zkCli 3.8's SetQuotaCommand, ListQuotaCommand and
// DelQuotaCommand over the client, with their output text. Quota nodes are ordinary znodes under
// /zookeeper/quota (the server keeps zookeeper_stats current); these commands only read and write them.
import { NoNodeError, NodeExistsError, type ZooKeeperClient } from "../client/index.js";
import { pathProblem, quotaZookeeper } from "../tree/path.js";
import { StatsTrack, limitNode, limitPath, quotaPath, statPath } from "../tree/quota.js";

/** Where the quota commands write: stdout for results, stderr for notes (zkCli's out and err). */
export interface QuotaOutput {
  out(text: string): void;
  err(text: string): void;
}

/** setquota's and delquota's option: soft count, soft bytes, hard count, hard bytes. */
export type QuotaOption = "n" | "b" | "N" | "B";

/** A failure zkCli reports as a CliException (MalformedPathException): its message, exit code 1. */
export class QuotaCommandError extends Error {
  override name = "QuotaCommandError";
}

const intMin = -(2n ** 31n);
const intMax = 2n ** 31n - 1n;
const longMin = -(2n ** 63n);
const longMax = 2n ** 63n - 1n;

/** Integer.parseInt / Long.parseLong (ASCII digits), or undefined for a NumberFormatException. */
function parseJavaInteger(s: string, min: bigint, max: bigint): bigint | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = BigInt(s);
  return n < min || n > max ? undefined : n;
}

function malformed(path: string): void {
  const problem = pathProblem(path);
  if (problem !== null) throw new QuotaCommandError(problem);
}

/** SetQuotaCommand.exec: checks the path and the value, then createQuota. */
export async function setQuota(
  zk: ZooKeeperClient,
  io: QuotaOutput,
  path: string,
  option: QuotaOption,
  value: string,
): Promise<void> {
  if (path.startsWith(quotaZookeeper)) {
    io.err(`cannot set a quota under the path: ${quotaZookeeper}\n`);
    return;
  }
  const quota = new StatsTrack();
  quota.count = -1n;
  quota.bytes = -1n;
  quota.countHardLimit = -1n;
  quota.byteHardLimit = -1n;
  const isCount = option === "n" || option === "N";
  const n = isCount ? parseJavaInteger(value, intMin, intMax) : parseJavaInteger(value, longMin, longMax);
  if (n === undefined) {
    io.err("NumberFormatException happens when parsing the option value\n");
    return;
  }
  if (isCount ? n <= 0n : n < 0n) {
    io.err(
      isCount
        ? "the num quota must be greater than zero\n"
        : "the bytes quota must be greater than or equal to zero\n",
    );
    return;
  }
  if (option === "n") quota.count = n;
  else if (option === "b") quota.bytes = n;
  else if (option === "N") quota.countHardLimit = n;
  else quota.byteHardLimit = n;
  await createQuota(zk, io, path, quota);
}

/** SetQuotaCommand.createQuota. */
async function createQuota(
  zk: ZooKeeperClient,
  io: QuotaOutput,
  path: string,
  quota: StatsTrack,
): Promise<void> {
  malformed(path);
  if ((await zk.exists(path)) === null) throw new QuotaCommandError(`${path} does not exist.`);
  malformed(quotaPath(path));
  await checkIfChildQuota(zk, path);
  await checkIfParentQuota(zk, path);
  // The quota node's ancestors, each created if missing (another client may race us: NodeExists is fine).
  let node = quotaZookeeper;
  for (const part of path.split("/").slice(1)) {
    if (part === "") continue;
    node += `/${part}`;
    if ((await zk.exists(node)) !== null) continue;
    try {
      await zk.create(node, null);
    } catch (err) {
      if (!(err instanceof NodeExistsError)) throw err;
    }
  }
  const limits = `${node}/${limitNode}`;
  const stats = statPath(path);
  if ((await zk.exists(limits)) === null) {
    await zk.create(limits, quota.toBytes());
    const initial = new StatsTrack();
    initial.count = 0n;
    initial.bytes = 0n;
    await zk.create(stats, initial.toBytes());
    const current = StatsTrack.fromBytes((await zk.getData(limits)).data);
    warnIfBelowUsage(io, current, StatsTrack.fromBytes((await zk.getData(stats)).data));
    return;
  }
  const current = StatsTrack.fromBytes((await zk.getData(limits)).data);
  if (quota.count > -1n) current.count = quota.count;
  if (quota.bytes > -1n) current.bytes = quota.bytes;
  if (quota.countHardLimit > -1n) current.countHardLimit = quota.countHardLimit;
  if (quota.byteHardLimit > -1n) current.byteHardLimit = quota.byteHardLimit;
  warnIfBelowUsage(io, current, StatsTrack.fromBytes((await zk.getData(stats)).data));
  await zk.setData(limits, current.toBytes(), -1);
}

/** SetQuotaCommand.checkQuota: a note on stdout when a new limit is already below the usage. */
function warnIfBelowUsage(io: QuotaOutput, limits: StatsTrack, stats: StatsTrack): void {
  const below = (limit: bigint, used: bigint): boolean => limit > -1n && limit < used;
  if (below(limits.count, stats.count) || below(limits.countHardLimit, stats.count))
    io.out(`[Warning]: the count quota you create is less than the existing count:${stats.count}\n`);
  if (below(limits.bytes, stats.bytes) || below(limits.byteHardLimit, stats.bytes))
    io.out(`[Warning]: the bytes quota you create is less than the existing bytes:${stats.bytes}\n`);
}

/** SetQuotaCommand.checkIfChildQuota: no quota may sit below the new one (ZKUtil.visitSubTreeDFS order). */
async function checkIfChildQuota(zk: ZooKeeperClient, path: string): Promise<void> {
  const root = quotaPath(path);
  try {
    await zk.getData(root);
  } catch (err) {
    if (err instanceof NoNodeError) return;
    throw err;
  }
  const visit = async (node: string): Promise<void> => {
    let children: string[];
    try {
      children = (await zk.getChildren(node)).sort();
    } catch (err) {
      if (err instanceof NoNodeError) return;
      throw err;
    }
    if (node !== root && children.includes(limitNode))
      throw new QuotaCommandError(
        `${path} has a child ${node.substring(quotaZookeeper.length)} which has a quota`,
      );
    for (const c of children) await visit(`${node}/${c}`);
  };
  await visit(root);
}

/** SetQuotaCommand.checkIfParentQuota: no quota may sit above the new one. */
async function checkIfParentQuota(zk: ZooKeeperClient, path: string): Promise<void> {
  const parts = path.split("/");
  while (parts.length > 0 && parts[parts.length - 1] === "") parts.pop();
  let node = quotaZookeeper;
  for (let i = 1; i < parts.length - 1; i++) {
    node += `/${parts[i]}`;
    let children: string[];
    try {
      children = await zk.getChildren(node);
    } catch (err) {
      if (err instanceof NoNodeError) return;
      throw err;
    }
    if (children.length === 0) return;
    if (node !== quotaPath(path) && children.includes(limitNode))
      throw new QuotaCommandError(
        `${path} has a parent ${node.substring(quotaZookeeper.length)} which has a quota`,
      );
  }
}

/** ListQuotaCommand: the limits, then the usage, each re-printed through StatsTrack. */
export async function listQuota(zk: ZooKeeperClient, io: QuotaOutput, path: string): Promise<void> {
  io.err(`absolute path is ${limitPath(path)}\n`);
  malformed(limitPath(path));
  let limits: StatsTrack;
  let stats: StatsTrack;
  try {
    limits = StatsTrack.fromBytes((await zk.getData(limitPath(path))).data);
    stats = StatsTrack.fromBytes((await zk.getData(statPath(path))).data);
  } catch (err) {
    if (!(err instanceof NoNodeError)) throw err;
    io.err(`quota for ${path} does not exist.\n`);
    return;
  }
  io.out(`Output quota for ${path} ${limits.toString()}\n`);
  io.out(`Output stat for ${path} ${stats.toString()}\n`);
}

/** DelQuotaCommand: one limit back to -1, or (no option) the whole quota node and its empty ancestors. */
export async function delQuota(
  zk: ZooKeeperClient,
  io: QuotaOutput,
  path: string,
  option: QuotaOption | undefined,
): Promise<void> {
  const limits = limitPath(path);
  malformed(limits);
  try {
    if ((await zk.exists(limits)) === null) {
      io.out(`Quota does not exist for ${path}\n`);
      return;
    }
    const current = StatsTrack.fromBytes((await zk.getData(limits)).data);
    if (option === undefined) {
      const parent = quotaPath(path);
      for (const child of await zk.getChildren(parent)) await zk.delete(`${parent}/${child}`, -1);
      await trimProcQuotas(zk, parent);
      return;
    }
    if (option === "n") current.count = -1n;
    else if (option === "b") current.bytes = -1n;
    else if (option === "N") current.countHardLimit = -1n;
    else current.byteHardLimit = -1n;
    await zk.setData(limits, current.toBytes(), -1);
  } catch (err) {
    if (!(err instanceof NoNodeError)) throw err;
    io.err(`quota for ${path} does not exist.\n`);
  }
}

/** DelQuotaCommand.trimProcQuotas: removes quota nodes left childless, up to /zookeeper/quota. */
async function trimProcQuotas(zk: ZooKeeperClient, start: string): Promise<void> {
  for (let node = start; node !== quotaZookeeper; node = node.substring(0, node.lastIndexOf("/"))) {
    if ((await zk.getChildren(node)).length > 0) return;
    await zk.delete(node, -1);
  }
}
