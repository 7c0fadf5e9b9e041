// The process log: pino, JSON lines by default, a human layout (pino-pretty) for terminals. Writes to stderr.
import pino from "pino";
import pretty from "pino-pretty";
import { ConfigError } from "../base/errors.js";

export type Logger = pino.Logger;

export const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof logLevels)[number];

export const logFormats = ["json", "pretty"] as const;
export type LogFormat = (typeof logFormats)[number];

/** The environment variable that sets the level; it wins over zoo.cfg's corral.log.level. */
export const logLevelEnv = "CORRAL_LOG_LEVEL";

/** The level to log at: CORRAL_LOG_LEVEL, else corral.log.level, else info. A bad value names its source. */
export function chooseLogLevel(configured: LogLevel | undefined, env: string | undefined): LogLevel {
  if (env !== undefined && env !== "") {
    const level = logLevels.find((l) => l === env.toLowerCase());
    if (level === undefined)
      throw new ConfigError(logLevelEnv, `"${env}" is not one of ${logLevels.join(", ")}`);
    return level;
  }
  return configured ?? "info";
}

/**
 * The layout: `--log-format`, else corral.log.format, else pretty when the log stream is a terminal. A pipe
 * or a file gets JSON lines, one object a line, which log shippers read as they are.
 */
export function chooseLogFormat(
  flag: string | undefined,
  configured: LogFormat | undefined,
  streamIsTty: boolean,
): LogFormat {
  if (flag !== undefined) {
    const format = logFormats.find((f) => f === flag);
    if (format === undefined)
      throw new ConfigError("--log-format", `"${flag}" is not one of ${logFormats.join(", ")}`);
    return format;
  }
  return configured ?? (streamIsTty ? "pretty" : "json");
}

/** A logger on stderr. Writes are synchronous so that the last lines before an exit are not lost. */
export function makeLogger(level: LogLevel, format: LogFormat): Logger {
  const options: pino.LoggerOptions = { level, base: { pid: process.pid } };
  if (format === "json") return pino(options, pino.destination({ dest: 2, sync: true }));
  const stream = pretty({
    destination: 2,
    sync: true,
    colorize: process.stderr.isTTY === true,
    translateTime: "SYS:yyyy-mm-dd HH:MM:ss.l",
    ignore: "pid,hostname",
    singleLine: true,
  });
  return pino(options, stream);
}
