// The `corral` command: `corral server [zoo.cfg]`.
import { parseArgs } from "node:util";
import { chooseLogFormat, chooseLogLevel, logLevelEnv, makeLogger, type Logger } from "../server/logger.js";
import { loadConfig, defaultConfig, type ServerConfig } from "../server/config.js";
import { CorralServer } from "../server/corral-server.js";
import { CorralError } from "../base/errors.js";

const usage = `usage: corral <command> [options]

commands:
  server [zoo.cfg] [--log-format json|pretty]
                      run a server (standalone on 127.0.0.1:2181 with data under ./data when no file is given);
                      logs go to stderr as JSON lines, or pretty on a terminal
  shell [-server host:port] [command...]
                      zkCli-compatible shell; runs one command and exits when a command is given
  logdump <log file | dataLogDir> [--json] [--chop ZXID [--yes]]
                      print txn log records (CRC checked); --chop drops txns after ZXID (dry run without --yes)
  snapdump <snapshot file> [--json] [-d]
                      print a snapshot's zxid, node and session counts (CRC checked); -d every node's stat
  cleanup <dataDir> [dataLogDir] -n N
                      keep the newest N (>= 3) snapshots and the log segments they need
  backup --server host:adminPort [--auth user:password] --out FILE
                      save a live server's snapshot through its admin server; checks it and prints its zxid
  restore --file FILE --data-dir DIR
                      put a backup into an empty data dir for corral server to start from
`;

const serverUsage = "usage: corral server [zoo.cfg] [--log-format json|pretty]\n";

async function runServer(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { "log-format": { type: "string" }, help: { type: "boolean", short: "h" } },
    });
  } catch (e) {
    process.stderr.write(`corral server: ${(e as Error).message}\n${serverUsage}`);
    return 2;
  }
  const { positionals, values } = parsed;
  if (values.help === true) {
    process.stdout.write(serverUsage);
    return 0;
  }
  if (positionals.length > 1) {
    process.stderr.write(`corral server: one config file at most\n${serverUsage}`);
    return 2;
  }
  let config: ServerConfig;
  let logger: Logger;
  try {
    config = positionals[0] !== undefined ? loadConfig(positionals[0]) : defaultConfig(process.cwd());
    const level = chooseLogLevel(config.logLevel, process.env[logLevelEnv]);
    logger = makeLogger(level, chooseLogFormat(values["log-format"], config.logFormat, process.stderr.isTTY));
  } catch (e) {
    process.stderr.write(`corral: ${(e as Error).message}\n`);
    return 2;
  }
  for (const key of config.unknownKeys) logger.warn({ key }, "unknown config key ignored");
  const server = new CorralServer(config, logger);
  try {
    await server.start();
  } catch (e) {
    const msg = (e as Error).message;
    logger.fatal({ err: msg, code: e instanceof CorralError ? e.code : undefined }, "cannot start");
    await server.auditStartFailure();
    process.stderr.write(`corral: cannot start: ${msg}\n`);
    return 1;
  }
  const shutdown = (signal: string): void => {
    logger.info({ signal }, "shutting down");
    server.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("uncaughtException", (e) => {
    // An assertion or a failed fsync: stop rather than acknowledge anything more.
    logger.fatal({ err: e.message, stack: e.stack }, "fatal error");
    process.stderr.write(`corral: fatal: ${e.message}\n`);
    process.exit(70);
  });
  return -1;
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  let code: number;
  switch (command) {
    case "server":
      code = await runServer(rest);
      break;
    case "shell": {
      const { runShellCommand } = await import("./shell.js");
      code = await runShellCommand(rest);
      break;
    }
    case "logdump": {
      const { runLogdump } = await import("./logdump.js");
      code = await runLogdump(rest);
      break;
    }
    case "snapdump": {
      const { runSnapdump } = await import("./snapdump.js");
      code = await runSnapdump(rest);
      break;
    }
    case "cleanup": {
      const { runCleanup } = await import("./cleanup.js");
      code = await runCleanup(rest);
      break;
    }
    case "backup": {
      const { runBackup } = await import("./backup.js");
      code = await runBackup(rest);
      break;
    }
    case "restore": {
      const { runRestore } = await import("./restore.js");
      code = await runRestore(rest);
      break;
    }
    case "bench": {
      const { runBench } = await import("../../bench/main.js");
      code = await runBench(rest);
      break;
    }
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(usage);
      code = command === undefined ? 2 : 0;
      break;
    default:
      process.stderr.write(`corral: unknown command "${command}"\n${usage}`);
      code = 2;
  }
  if (code >= 0) process.exit(code);
}

await main(process.argv.slice(2));
