// `corral shell`: zkCli's commands over Corral's client. One command from argv, commands from stdin when it is
// not a TTY, or an interactive REPL with history and tab completion (node:readline). Formats in shell-format.ts.
import { createInterface, type Interface } from "node:readline";
import { Code } from "../protocol/error-codes.js";
import {
  ZooKeeperClient,
  NoNodeError,
  ZkError,
  type ClientState,
  type CreateMode,
  type WatchEvent,
} from "../client/index.js";
import {
  ShellParseError,
  complete,
  parseCommand,
  splitWords,
  type ParseResult,
  type ShellCommand,
} from "./shell-commands.js";
import {
  errorMessage,
  formatAcl,
  formatChildren,
  formatData,
  formatJavaList,
  formatStat,
  formatStateEvent,
  formatWatchEvent,
  parseAcl,
  promptState,
  usageText,
} from "./shell-format.js";
import { delQuota, listQuota, setQuota } from "./shell-quota.js";

/** Where the shell writes: stdout for results, stderr for errors and notes (zkCli's split). */
export interface ShellOutput {
  out(text: string): void;
  err(text: string): void;
}

export interface ShellOptions {
  server: string;
  timeoutMs: number;
  readOnly: boolean;
  /** Print connection banners and session state events (interactive use). */
  verbose: boolean;
}

/** zkCli keeps the last 10 commands on `history` (and remembers them all for `redo`). */
const historyShownMax = 10;
const readlineHistoryMax = 1000;

/** Thrown by a command to end with this exit code after `message` went to stderr (CliException). */
class CommandFailed extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** A shell session: the client, the history, the last exit code. */
export class Shell {
  private client: ZooKeeperClient | undefined;
  private host: string;
  private printWatches = true;
  private readonly history = new Map<number, string>();
  private commandCount = 0;
  /** The exit code so far: 0, or the last failing command's. */
  exitCode = 0;
  quitRequested = false;

  constructor(
    private readonly options: ShellOptions,
    private readonly io: ShellOutput,
  ) {
    this.host = options.server;
  }

  get state(): ClientState | undefined {
    return this.client?.state;
  }

  get prompt(): string {
    return `[zk: ${this.host}(${promptState(this.client?.state)}) ${this.commandCount}] `;
  }

  /** Connects (closing any current session); a failure is reported and leaves the shell not connected. */
  async connect(host: string): Promise<boolean> {
    await this.close();
    this.host = host;
    if (this.options.verbose) this.io.out(`Connecting to ${host}\n`);
    try {
      const client = await ZooKeeperClient.connect(host, {
        sessionTimeoutMs: this.options.timeoutMs,
        connectTimeoutMs: this.options.timeoutMs,
        readOnly: this.options.readOnly,
      });
      this.client = client;
      client.on("state", (state) => {
        if (client !== this.client || !this.options.verbose || !this.printWatches) return;
        const text = formatStateEvent(state);
        if (text !== undefined) this.io.out(text);
      });
      if (this.options.verbose && this.printWatches) this.io.out(formatStateEvent("connected")!);
      return true;
    } catch (err) {
      this.io.err(`Unable to connect to ${host}: ${errorMessage(err)}\n`);
      return false;
    }
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.close();
  }

  /** Runs one input line (history, redo and all); returns its exit code. Blank lines do nothing. */
  async executeLine(line: string): Promise<number> {
    if (line.trim() === "") return 0;
    this.history.set(this.commandCount, line);
    try {
      return await this.executeWords(splitWords(line));
    } finally {
      this.commandCount++;
    }
  }

  /** Runs one command given as words (argv in single-command mode); returns its exit code. */
  async executeWords(words: readonly string[]): Promise<number> {
    let code: number;
    try {
      let parsed: ParseResult;
      try {
        parsed = parseCommand(words);
      } catch (err) {
        if (err instanceof ShellParseError && err.exitCode === 127) this.io.err(usageText());
        throw err;
      }
      for (const w of parsed.warnings) this.io.err(`${w}\n`);
      await this.run(parsed.command);
      code = 0;
    } catch (err) {
      code = err instanceof ShellParseError || err instanceof CommandFailed ? err.exitCode : 1;
      const message = errorMessage(err);
      if (message !== "") this.io.err(`${message}\n`);
    }
    if (code !== 0) this.exitCode = code;
    return code;
  }

  private connected(): ZooKeeperClient {
    const client = this.client;
    if (client === undefined || client.state === "closed" || client.state === "expired")
      throw new CommandFailed("Not connected");
    return client;
  }

  private readonly onWatch = (event: WatchEvent): void => {
    if (this.printWatches) this.io.out(formatWatchEvent(event));
  };

  private watchOf(watch: boolean): { watch?: (event: WatchEvent) => void } {
    return watch ? { watch: this.onWatch } : {};
  }

  private async run(c: ShellCommand): Promise<void> {
    const out = (text: string): void => this.io.out(text);
    switch (c.name) {
      case "help":
        return out(usageText());
      case "quit":
        this.quitRequested = true;
        return this.close();
      case "history":
        for (let i = Math.max(0, this.commandCount - historyShownMax); i <= this.commandCount; i++)
          out(`${i} - ${this.history.get(i) ?? "null"}\n`);
        return;
      case "redo": {
        if (this.commandCount <= c.index || c.index < 0)
          throw new CommandFailed("Command index out of range");
        const line = this.history.get(c.index)!;
        const words = splitWords(line);
        if (words[0] === "redo") throw new CommandFailed("No redoing redos");
        this.history.set(this.commandCount, line);
        const code = await this.executeWords(words);
        if (code !== 0) throw new CommandFailed("", code);
        return;
      }
      case "printwatches":
        if (c.on === undefined) out(`printwatches is ${this.printWatches ? "on" : "off"}\n`);
        else this.printWatches = c.on;
        return;
      case "connect":
        if (!(await this.connect(c.host ?? this.host))) throw new CommandFailed("", 1);
        return;
      case "close":
        return this.close();
      default:
        return this.runOnServer(this.connected(), c);
    }
  }

  private async runOnServer(zk: ZooKeeperClient, c: ShellCommand): Promise<void> {
    const out = (text: string): void => this.io.out(text);
    switch (c.name) {
      case "ls":
        if (c.recursive) {
          await this.visitSubTree(zk, c.path, c.watch, (p) => out(`${p}\n`));
        } else if (c.stat) {
          const { children, stat } = await zk.getChildren2(c.path, this.watchOf(c.watch));
          out(formatChildren(children) + formatStat(stat));
        } else {
          out(formatChildren(await zk.getChildren(c.path, this.watchOf(c.watch))));
        }
        return;
      case "get": {
        const { data, stat } = await zk.getData(c.path, { ...this.watchOf(c.watch), keepNull: true });
        out(formatData(data) + (c.stat ? formatStat(stat) : ""));
        return;
      }
      case "stat": {
        const stat = await zk.exists(c.path, this.watchOf(c.watch));
        if (stat === null) throw new NoNodeError(Code.noNode, c.path);
        out(formatStat(stat));
        return;
      }
      case "set": {
        const stat = await zk.setData(c.path, c.data, c.version);
        if (c.stat) out(formatStat(stat));
        return;
      }
      case "create": {
        const mode: CreateMode =
          c.ephemeral && c.sequential
            ? "ephemeral-sequential"
            : c.ephemeral
              ? "ephemeral"
              : c.sequential
                ? c.ttlMs !== undefined
                  ? "persistent-sequential-ttl"
                  : "persistent-sequential"
                : c.container
                  ? "container"
                  : c.ttlMs !== undefined
                    ? "persistent-ttl"
                    : "persistent";
        const acl = c.acl === undefined ? undefined : this.acl(c.acl);
        const path = await zk.create(c.path, c.data, {
          mode,
          ...(acl === undefined ? {} : { acl }),
          ...(c.ttlMs === undefined ? {} : { ttlMs: c.ttlMs }),
        });
        out(`Created ${path}\n`);
        return;
      }
      case "delete":
        return zk.delete(c.path, c.version);
      case "deleteall":
        return this.deleteAll(zk, c.path, c.batchSize);
      case "getAcl": {
        const { acl, stat } = await zk.getACL(c.path);
        out(formatAcl(acl) + (c.stat ? formatStat(stat) : ""));
        return;
      }
      case "setAcl": {
        const acl = this.acl(c.acl);
        if (c.recursive) {
          const failures: string[] = [];
          await this.visitSubTree(zk, c.path, false, async (p) => {
            await zk.setACL(p, acl, c.version).catch((err: unknown) => failures.push(errorMessage(err)));
          });
          if (failures.length > 0) throw new CommandFailed(failures.join("\n"));
        } else {
          const stat = await zk.setACL(c.path, acl, c.version);
          if (c.stat) out(formatStat(stat));
        }
        return;
      }
      case "addauth":
        return zk.addAuth(c.scheme, c.auth);
      case "sync":
        try {
          await zk.sync(c.path);
        } catch (err) {
          if (err instanceof ZkError) throw new CommandFailed(`Sync has failed. rc=${err.code}`);
          throw err;
        }
        out("Sync is OK\n");
        return;
      case "addWatch":
        return zk.addWatch(c.path, this.onWatch, { recursive: c.recursive });
      case "removewatches":
        return zk.removeWatches(c.path, c.kind, { local: c.local });
      case "whoami": {
        const infos = await zk.whoAmI();
        out("Auth scheme: User\n" + infos.map((i) => `${i.authScheme}: ${i.user}\n`).join(""));
        return;
      }
      case "getEphemerals":
        out(formatJavaList(await zk.getEphemerals(c.path ?? "/")));
        return;
      case "getAllChildrenNumber":
        out(`${await zk.getAllChildrenNumber(c.path)}\n`);
        return;
      case "setquota":
        return setQuota(zk, this.io, c.path, c.option, c.value);
      case "listquota":
        return listQuota(zk, this.io, c.path);
      case "delquota":
        return delQuota(zk, this.io, c.path, c.option);
      case "config": {
        // ZooKeeper.getConfig reads /zookeeper/config (ZooDefs.CONFIG_NODE).
        const { data, stat } = await zk.getData("/zookeeper/config", {
          ...this.watchOf(c.watch),
          keepNull: true,
        });
        const text = formatData(data);
        out(c.client ? `${clientConfig(text)}\n` : text);
        if (c.stat) out(formatStat(stat));
        return;
      }
      default:
        throw new Error(`unhandled command ${c.name}`);
    }
  }

  private acl(text: string): ReturnType<typeof parseAcl>["acl"] {
    const { acl, warnings } = parseAcl(text);
    for (const w of warnings) this.io.err(`${w}\n`);
    return acl;
  }

  /**
   * ZKUtil.visitSubTreeDFS: the root (which must exist), then each level's children sorted, listed before
   * their own subtrees are visited. A node deleted meanwhile is skipped.
   */
  private async visitSubTree(
    zk: ZooKeeperClient,
    root: string,
    watch: boolean,
    visit: (path: string) => void | Promise<void>,
  ): Promise<void> {
    await zk.getData(root, this.watchOf(watch));
    await visit(root);
    const helper = async (path: string): Promise<void> => {
      let children: string[];
      try {
        children = (await zk.getChildren(path, this.watchOf(watch))).sort();
      } catch (err) {
        if (err instanceof NoNodeError) return;
        throw err;
      }
      const base = path === "/" ? "/" : `${path}/`;
      for (const child of children) await visit(base + child);
      for (const child of children) await helper(base + child);
    };
    await helper(root);
  }

  /** ZKUtil.deleteRecursive: list the subtree breadth first, delete it leaves first in multis of batchSize. */
  private async deleteAll(zk: ZooKeeperClient, root: string, batchSize: number): Promise<void> {
    const tree = [root];
    for (let i = 0; i < tree.length; i++) {
      const node = tree[i]!;
      const base = node === "/" ? "/" : `${node}/`;
      for (const child of await zk.getChildren(node)) tree.push(base + child);
    }
    let txn = zk.transaction();
    for (let i = tree.length - 1; i >= 0; i--) {
      txn.delete(tree[i]!);
      if (txn.size === batchSize || i === 0) {
        try {
          await txn.commit();
        } catch (err) {
          if (!(err instanceof ZkError)) throw err;
          throw new CommandFailed("Failed to delete some node(s) in the subtree!");
        }
        txn = zk.transaction();
      }
    }
  }

  /** Children of `parent` for tab completion. */
  completionChildren(parent: string): Promise<string[]> {
    const client = this.client;
    if (client === undefined || client.state !== "connected") return Promise.resolve([]);
    return client.getChildren(parent);
  }
}

/** ConfigUtils.getClientConfigStr: "version host:port,host:port" from a dynamic config's server lines. */
function clientConfig(config: string): string {
  let version = "";
  const addresses: string[] = [];
  for (const line of config.split("\n")) {
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (key === "version") version = value;
    if (!key.startsWith("server.")) continue;
    const client = value.split(";")[1];
    if (client !== undefined) addresses.push(client.includes(":") ? client : `0.0.0.0:${client}`);
  }
  return `${version} ${addresses.join(",")}`;
}

interface ShellArgs {
  options: ShellOptions;
  command: string[];
}

/** ZooKeeperMain.MyCommandOptions.parseOptions: -server, -timeout, -r, then the command and its words. */
export function parseShellArgs(argv: readonly string[], verbose: boolean): ShellArgs {
  const options: ShellOptions = { server: "localhost:2181", timeoutMs: 30_000, readOnly: false, verbose };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new ShellParseError(`Error: no argument found for option ${a}`, 2);
      return v;
    };
    if (a === "-server") options.server = value();
    else if (a === "-timeout") {
      const v = value();
      const ms = Number(v);
      if (!Number.isInteger(ms) || ms <= 0)
        throw new ShellParseError(`-timeout must be a positive integer`, 2);
      options.timeoutMs = ms;
    } else if (a === "-r") options.readOnly = true;
    else if (a === "-waitforconnection") continue;
    else if (a.startsWith("-")) throw new ShellParseError(`unknown option ${a}`, 2);
    else return { options, command: argv.slice(i) };
  }
  return { options, command: [] };
}

async function readLines(shell: Shell, rl: Interface, afterEach: () => void): Promise<void> {
  for await (const line of rl) {
    await shell.executeLine(line);
    if (shell.quitRequested) break;
    afterEach();
  }
}

/**
 * `corral shell [-server host:port] [-timeout ms] [-r] [cmd args...]`. With a command: run it and exit with its
 * code. Otherwise commands come from stdin: a REPL when it is a TTY; else one per line, no prompt, and the exit
 * code is the last failing command's (0 when all succeeded).
 */
export async function runShellCommand(argv: readonly string[]): Promise<number> {
  const interactive = process.stdin.isTTY === true;
  let args: ShellArgs;
  try {
    args = parseShellArgs(argv, false);
  } catch (err) {
    process.stderr.write(`${errorMessage(err)}\n${usageText()}`);
    return 2;
  }
  const io: ShellOutput = {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
  };
  if (args.command.length > 0) {
    const shell = new Shell(args.options, io);
    if (args.command[0] !== "help" && !(await shell.connect(args.options.server))) return 1;
    const code = await shell.executeWords(args.command);
    await shell.close();
    return code;
  }
  const shell = new Shell({ ...args.options, verbose: interactive }, io);
  if (interactive) io.out("Welcome to Corral's ZooKeeper shell!\n");
  await shell.connect(args.options.server);
  if (!interactive) {
    const rl = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
    await readLines(shell, rl, () => {});
    rl.close();
    await shell.close();
    return shell.exitCode;
  }
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal: true,
    historySize: readlineHistoryMax,
    completer: (line: string, callback: (err: Error | null, result: [string[], string]) => void) => {
      complete(line, (parent) => shell.completionChildren(parent)).then(
        (r) => callback(null, r),
        () => callback(null, [[], line]),
      );
    },
  });
  rl.on("SIGINT", () => rl.close());
  rl.setPrompt(shell.prompt);
  rl.prompt();
  await readLines(shell, rl, () => {
    rl.setPrompt(shell.prompt);
    rl.prompt();
  });
  rl.close();
  await shell.close();
  return shell.exitCode;
}
