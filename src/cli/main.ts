// The `corral` command: `corral server [zoo.cfg]`.
import { parseArgs } from "node:util";
import pino from "pino";
type Logger = pino.Logger;
import { loadConfig, defaultConfig, type ServerConfig } from "../server/config.js";
import { CorralServer } from "../server/corral-server.js";
import { CorralError } from "../base/errors.js";

const usage = `usage: corral <command> [options]

commands:
  server [zoo.cfg]    run a server (standalone on 127.0.0.1:2181 with data under ./data when no file is given)
  shell [-server host:port] [command...]
                      zkCli-compatible shell; runs one command and exits when a command is given
  logdump <log file | dataLogDir> [--json] [--chop ZXID [--yes]]
                      print txn log records (CRC checked); --chop drops txns after ZXID (dry run without --yes)
  snapdump <snapshot file> [--json] [-d]
                      print a snapshot's zxid, node and session counts (CRC checked); -d every node's stat
  cleanup <dataDir> [dataLogDir] -n N
                      keep the newest N (>= 3) snapshots and the log segments they need
`;

function makeLogger(): Logger {
  const level = process.env.CORRAL_LOG_LEVEL ?? "info";
  return pino({ level, base: { pid: process.pid } }, pino.destination({ dest: 2, sync: true }));
}

async function runServer(args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  const logger = makeLogger();
  let config: ServerConfig;
  try {
    config = positionals[0] !== undefined ? loadConfig(positionals[0]) : defaultConfig(process.cwd());
  } catch (e) {
    logger.fatal({ err: (e as Error).message }, "invalid configuration");
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
