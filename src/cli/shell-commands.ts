// Shell command parsing for `corral shell`: a line → words (ZooKeeperMain.MyCommandOptions.parseCommand) → a
// typed command with zkCli 3.8's options (commons-cli DefaultParser, the subset zkCli uses). Pure: no I/O.

/** A command zkCli knows, with its usage line exactly as ZooKeeperMain.usage() prints it. */
export const commandUsages: ReadonlyMap<string, string> = new Map([
  [
    "addWatch",
    "[-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE",
  ],
  ["addauth", "scheme auth"],
  ["close", ""],
  ["config", "[-c] [-w] [-s]"],
  ["connect", "host:port"],
  ["create", "[-s] [-e] [-c] [-t ttl] path [data] [acl]"],
  ["delete", "[-v version] path"],
  ["deleteall", "path [-b batch size]"],
  ["delquota", "[-n|-b|-N|-B] path"],
  ["get", "[-s] [-w] path"],
  ["getAcl", "[-s] path"],
  ["getAllChildrenNumber", "path"],
  ["getEphemerals", "path"],
  ["help", ""],
  ["history", ""],
  ["listquota", "path"],
  ["ls", "[-s] [-w] [-R] path"],
  ["printwatches", "on|off"],
  ["quit", ""],
  ["redo", "cmdno"],
  ["removewatches", "path [-c|-d|-a] [-l]"],
  ["set", "[-s] [-v version] path data"],
  ["setAcl", "[-s] [-v version] [-R] path acl"],
  ["setquota", "-n|-b|-N|-B val path"],
  ["stat", "[-w] path"],
  ["sync", "path"],
  ["whoami", ""],
]);

/** Command names, sorted as zkCli sorts them (String order: upper case first). */
export const commandNames: readonly string[] = [...commandUsages.keys()].sort();

export type ShellCommand =
  | { name: "ls"; path: string; stat: boolean; watch: boolean; recursive: boolean }
  | { name: "get"; path: string; stat: boolean; watch: boolean }
  | { name: "stat"; path: string; watch: boolean }
  | { name: "set"; path: string; data: string; stat: boolean; version: number }
  | {
      name: "create";
      path: string;
      data: string | null;
      acl: string | undefined;
      sequential: boolean;
      ephemeral: boolean;
      container: boolean;
      ttlMs: number | undefined;
    }
  | { name: "delete"; path: string; version: number }
  | { name: "deleteall"; path: string; batchSize: number }
  | { name: "getAcl"; path: string; stat: boolean }
  | { name: "setAcl"; path: string; acl: string; stat: boolean; version: number; recursive: boolean }
  | { name: "addauth"; scheme: string; auth: string }
  | { name: "sync"; path: string }
  | { name: "addWatch"; path: string; recursive: boolean }
  | { name: "removewatches"; path: string; kind: "children" | "data" | "any"; local: boolean }
  | { name: "printwatches"; on: boolean | undefined }
  | { name: "whoami" }
  | { name: "getEphemerals"; path: string | undefined }
  | { name: "getAllChildrenNumber"; path: string }
  | { name: "config"; client: boolean; watch: boolean; stat: boolean }
  | { name: "history" }
  | { name: "setquota"; path: string; option: "n" | "b" | "N" | "B"; value: string }
  | { name: "listquota"; path: string }
  | { name: "delquota"; path: string; option: "n" | "b" | "N" | "B" | undefined }
  | { name: "redo"; index: number }
  | { name: "connect"; host: string | undefined }
  | { name: "close" }
  | { name: "quit" }
  | { name: "help" };

/**
 * A line zkCli would refuse. `exitCode` is what zkCli exits with: 127 for an unknown command
 * (CommandNotFoundException), 1 otherwise. `warnings` are printed before the message.
 */
export class ShellParseError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "ShellParseError";
  }
}

export interface ParseResult {
  command: ShellCommand;
  /** Deprecation notes zkCli prints on stderr (e.g. "'ls path [watch]' has been deprecated..."). */
  warnings: string[];
}

/** ZooKeeperMain.MyCommandOptions.ARGS_PATTERN: words split on white space; '...' and "..." keep spaces. */
const argsPattern = /\s*([^"']\S*|"[^"]*"|'[^']*')\s*/g;

/**
 * Splits a command line into words as zkCli does (Matcher.find over ARGS_PATTERN): quotes group words and are
 * removed around a whole word; an unmatched quote character is skipped.
 */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  for (const m of line.trim().matchAll(argsPattern)) {
    let word = m[1]!;
    if (word.length >= 2 && /^(['"]).*\1$/s.test(word)) word = word.slice(1, -1);
    words.push(word);
  }
  return words;
}

interface Parsed {
  flags: Set<string>;
  values: Map<string, string>;
  /** Non-option words, the command name first (commons-cli's getArgs()). */
  args: string[];
}

/**
 * commons-cli DefaultParser for short options: `-s`, grouped `-se`, `-v 3` or `-v3`; options may come anywhere;
 * `--` ends them; a word starting with "-" that names no option is an error unless it is a negative number.
 */
function parseOptions(words: readonly string[], flagNames: string, valueNames: string): Parsed {
  const flags = new Set<string>();
  const values = new Map<string, string>();
  const args = [words[0]!];
  let onlyArgs = false;
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (onlyArgs || !w.startsWith("-") || w === "-" || /^-\d+$/.test(w)) {
      args.push(w);
      continue;
    }
    if (w === "--") {
      onlyArgs = true;
      continue;
    }
    const first = w[1]!;
    if (valueNames.includes(first)) {
      const value = w.length > 2 ? w.slice(2) : words[++i];
      if (value === undefined) throw new ShellParseError(`Missing argument for option: ${first}`);
      values.set(first, value);
      continue;
    }
    for (const c of w.slice(1)) {
      if (!flagNames.includes(c)) throw new ShellParseError(`Unrecognized option: ${w}`);
      flags.add(c);
    }
  }
  return { flags, values, args };
}

function usageError(name: string): ShellParseError {
  return new ShellParseError(`${name} ${commandUsages.get(name) ?? ""}`);
}

function intOption(p: Parsed, name: string, fallback: number, what: string): number {
  const raw = p.values.get(name);
  if (raw === undefined) return fallback;
  if (!/^-?\d+$/.test(raw)) throw new ShellParseError(`-${name} argument must be an int value (${what})`);
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < -0x80000000 || n > 0x7fffffff)
    throw new ShellParseError(`-${name} argument must be an int value (${what})`);
  return n;
}

/**
 * Parses one line's words (from splitWords) into a command. Throws ShellParseError with zkCli's message: the
 * usage line for missing arguments, "Command not found: x" for an unknown command.
 */
export function parseCommand(words: readonly string[]): ParseResult {
  if (words.length === 0) throw new ShellParseError("No command entered");
  const name = words[0]!;
  const warnings: string[] = [];
  if (!commandUsages.has(name)) throw new ShellParseError(`Command not found: ${name}`, 127);
  /** `ls path watch`, `get path watch`, `stat path watch`: the old form, read as -w (retainCompatibility). */
  const legacyWatch = (p: Parsed, form: string): boolean => {
    if (p.args.length <= 2) return false;
    warnings.push(`'${name} path [watch]' has been deprecated. Please use '${form}' instead.`);
    return true;
  };
  const need = (p: Parsed, n: number): void => {
    if (p.args.length < n + 1) throw usageError(name);
  };
  const result = (command: ShellCommand): ParseResult => ({ command, warnings });
  switch (name) {
    case "ls": {
      const p = parseOptions(words, "swR?", "");
      need(p, 1);
      const watch = p.flags.has("w") || legacyWatch(p, "ls [-w] path");
      return result({
        name,
        path: p.args[1]!,
        stat: p.flags.has("s"),
        watch,
        recursive: p.flags.has("R"),
      });
    }
    case "get": {
      const p = parseOptions(words, "sw", "");
      need(p, 1);
      const watch = p.flags.has("w") || legacyWatch(p, "get [-s] [-w] path");
      return result({ name, path: p.args[1]!, stat: p.flags.has("s"), watch });
    }
    case "stat": {
      const p = parseOptions(words, "w", "");
      need(p, 1);
      const watch = p.flags.has("w") || legacyWatch(p, "stat [-w] path");
      return result({ name, path: p.args[1]!, watch });
    }
    case "set": {
      const p = parseOptions(words, "s", "v");
      need(p, 2);
      const version = intOption(p, "v", -1, "version");
      return result({ name, path: p.args[1]!, data: p.args[2]!, stat: p.flags.has("s"), version });
    }
    case "create":
      return result(parseCreate(words));
    case "delete": {
      const p = parseOptions(words, "", "v");
      need(p, 1);
      if (p.args.length > 2)
        warnings.push(
          "'delete path [version]' has been deprecated. Please use 'delete [-v version] path' instead.",
        );
      return result({ name, path: p.args[1]!, version: intOption(p, "v", -1, "version") });
    }
    case "deleteall": {
      const p = parseOptions(words, "", "b");
      need(p, 1);
      const batchSize = intOption(p, "b", 1000, "batch size");
      if (batchSize <= 0) throw new ShellParseError("-b argument must be a positive int value");
      return result({ name, path: p.args[1]!, batchSize });
    }
    case "getAcl": {
      const p = parseOptions(words, "s", "");
      need(p, 1);
      return result({ name, path: p.args[1]!, stat: p.flags.has("s") });
    }
    case "setAcl": {
      const p = parseOptions(words, "sR", "v");
      need(p, 2);
      return result({
        name,
        path: p.args[1]!,
        acl: p.args[2]!,
        stat: p.flags.has("s"),
        version: intOption(p, "v", -1, "version"),
        recursive: p.flags.has("R"),
      });
    }
    case "addauth": {
      const p = parseOptions(words, "", "");
      need(p, 1);
      return result({ name, scheme: p.args[1]!, auth: p.args[2] ?? "" });
    }
    case "sync":
    case "getAllChildrenNumber": {
      const p = parseOptions(words, "", "");
      need(p, 1);
      return result({ name, path: p.args[1]! });
    }
    case "addWatch": {
      const p = parseOptions(words, "", "m");
      if (p.args.length !== 2) throw usageError(name);
      const mode = (p.values.get("m") ?? "PERSISTENT_RECURSIVE").toUpperCase();
      if (mode !== "PERSISTENT" && mode !== "PERSISTENT_RECURSIVE") throw usageError(name);
      return result({ name, path: p.args[1]!, recursive: mode === "PERSISTENT_RECURSIVE" });
    }
    case "removewatches": {
      const p = parseOptions(words, "cdal", "");
      need(p, 1);
      const kind = p.flags.has("c") ? "children" : p.flags.has("d") ? "data" : "any";
      return result({ name, path: p.args[1]!, kind, local: p.flags.has("l") });
    }
    case "printwatches":
      return result({ name, on: words.length < 2 ? undefined : words[1] === "on" });
    case "getEphemerals": {
      const p = parseOptions(words, "", "");
      return result({ name, path: p.args[1] });
    }
    case "config": {
      const p = parseOptions(words, "cws", "");
      return result({ name, client: p.flags.has("c"), watch: p.flags.has("w"), stat: p.flags.has("s") });
    }
    case "redo": {
      // ZooKeeperMain: `redo` without a number does nothing; Integer.decode takes 0x.., #.., 0.. too.
      const raw = words[1];
      if (raw === undefined) throw usageError(name);
      const index = /^-?(0x|#)[0-9a-f]+$/i.test(raw) ? parseInt(raw.replace("#", "0x"), 16) : Number(raw);
      if (!Number.isInteger(index)) throw new ShellParseError(`For input string: "${raw}"`);
      return result({ name, index });
    }
    case "setquota":
    case "listquota":
    case "delquota":
      return result(parseQuotaCommand(name, words));
    case "connect":
      return result({ name, host: words[1] });
    case "whoami":
    case "history":
    case "close":
    case "quit":
    case "help":
      return result({ name });
    default:
      throw new ShellParseError(`Command not found: ${name}`, 127);
  }
}

/** CreateCommand.exec's checks, in its order and with its messages. */
function parseCreate(words: readonly string[]): ShellCommand {
  const p = parseOptions(words, "esc", "t");
  if (p.args.length < 2) throw usageError("create");
  const ephemeral = p.flags.has("e");
  const sequential = p.flags.has("s");
  const container = p.flags.has("c");
  const ttlRaw = p.values.get("t");
  if (container && (ephemeral || sequential))
    throw new ShellParseError(
      "-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.",
    );
  let ttlMs: number | undefined;
  if (ttlRaw !== undefined) {
    if (!/^-?\d+$/.test(ttlRaw)) throw new ShellParseError("-t argument must be a long value");
    ttlMs = Number(ttlRaw);
    if (ephemeral) throw new ShellParseError("TTLs cannot be used with Ephemeral znodes");
    if (container) throw new ShellParseError("TTLs cannot be used with Container znodes");
    if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0 || ttlMs > 0xffffffffff)
      throw new ShellParseError(`ttl must be positive and cannot be larger than: ${0xffffffffff}`);
  }
  return {
    name: "create",
    path: p.args[1]!,
    data: p.args[2] ?? null,
    acl: p.args[3],
    sequential,
    ephemeral,
    container,
    ttlMs,
  };
}

/**
 * setquota / delquota: one option of the group -n -b -N -B (commons-cli's OptionGroup: a second one is
 * AlreadySelectedException; setquota's group is required), then the path.
 */
function parseQuotaCommand(
  name: "setquota" | "listquota" | "delquota",
  words: readonly string[],
): ShellCommand {
  const p =
    name === "setquota"
      ? parseOptions(words, "", "nbNB")
      : parseOptions(words, name === "delquota" ? "nbNB" : "", "");
  const chosen = name === "setquota" ? [...p.values.keys()] : [...p.flags];
  if (chosen.length > 1)
    throw new ShellParseError(
      `org.apache.commons.cli.AlreadySelectedException: The option '${chosen[1]}' was specified but an option from this group has already been selected: '${chosen[0]}'`,
    );
  if (name === "setquota" && chosen.length === 0)
    throw new ShellParseError(
      "org.apache.commons.cli.MissingOptionException: Missing required option: [-n num soft quota, -b bytes soft quota, -N num hard quota, -B bytes hard quota]",
    );
  if (p.args.length < 2) throw usageError(name);
  const path = p.args[1]!;
  const option = chosen[0] as "n" | "b" | "N" | "B" | undefined;
  if (name === "listquota") return { name, path };
  if (name === "delquota") return { name, path, option };
  return { name, path, option: option!, value: p.values.get(option!)! };
}

/** One line → a command, or undefined for a blank line. */
export function parseLine(line: string): ParseResult | undefined {
  const words = splitWords(line);
  return words.length === 0 ? undefined : parseCommand(words);
}

/**
 * Tab completion (JLineZNodeCompleter): the last word, if it starts with "/", completes to children of its
 * parent (listed by `children`, which may reject: then nothing); otherwise to command names.
 * Returns readline's [completions, the substring they replace].
 */
export async function complete(
  line: string,
  children: (parent: string) => Promise<string[]>,
): Promise<[string[], string]> {
  const token = line.endsWith(" ") || line.length === 0 ? "" : line.slice(line.lastIndexOf(" ") + 1);
  if (!token.startsWith("/")) {
    const isFirstWord = !line.trimStart().includes(" ");
    return [isFirstWord ? commandNames.filter((c) => c.startsWith(token)) : [], token];
  }
  const slash = token.lastIndexOf("/");
  const parent = slash === 0 ? "/" : token.slice(0, slash);
  const prefix = token.slice(slash + 1);
  let names: string[];
  try {
    names = await children(parent);
  } catch {
    return [[], token];
  }
  const base = parent === "/" ? "/" : `${parent}/`;
  return [
    names
      .filter((n) => n.startsWith(prefix))
      .sort()
      .map((n) => base + n),
    token,
  ];
}
