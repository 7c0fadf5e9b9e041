// A JAAS login configuration file, as the JDK's ConfigFile reads it, and the DIGEST-MD5 users of its server
// section (ZooKeeper's SaslServerCallbackHandler: every `user_<name>="<password>"` option).
//
//   Server {
//     org.apache.zookeeper.server.auth.DigestLoginModule required
//     user_super="adminsecret"
//     user_bob="bobsecret";
//   };
//
// Sections are `Name { entry; ... };`, an entry is `LoginModuleClass flag key=value ...;`, values are words or
// quoted strings ("..." or '...', backslash escapes), comments are `//` and `/* */`.
// Not supported: `${property}` expansion in values.
import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { ConfigError } from "../base/errors.js";

export interface JaasEntry {
  loginModule: string;
  /** required | requisite | sufficient | optional */
  flag: string;
  options: Map<string, string>;
}

/** Section name → its login module entries, in file order. */
export type JaasConfig = Map<string, JaasEntry[]>;

/** The login module ZooKeeper uses for DIGEST-MD5; the only one Corral can act on. */
export const digestLoginModule = "org.apache.zookeeper.server.auth.DigestLoginModule";

const flags = new Set(["required", "requisite", "sufficient", "optional"]);
/** A JAAS file larger than this is surely not one. */
const jaasFileBytesMax = 1 << 20;

/** A syntax error in a JAAS file, with the line it is on. */
export class JaasSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = "JaasSyntaxError";
  }
}

type Token = { kind: "word" | "string" | "punct"; text: string; line: number };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "\n") {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (text.startsWith("//", i)) {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (text.startsWith("/*", i)) {
      const end = text.indexOf("*/", i + 2);
      if (end < 0) throw new JaasSyntaxError(line, "unterminated /* comment");
      for (let j = i; j < end; j++) if (text[j] === "\n") line++;
      i = end + 2;
    } else if (c === "{" || c === "}" || c === ";" || c === "=") {
      tokens.push({ kind: "punct", text: c, line });
      i++;
    } else if (c === '"' || c === "'") {
      const start = line;
      let value = "";
      i++;
      for (;;) {
        if (i >= text.length) throw new JaasSyntaxError(start, `unterminated ${c}quoted string`);
        const d = text[i]!;
        if (d === c) break;
        if (d === "\n") line++;
        if (d === "\\" && i + 1 < text.length) {
          const e = text[i + 1]!;
          value += e === "n" ? "\n" : e === "t" ? "\t" : e === "r" ? "\r" : e;
          i += 2;
          continue;
        }
        value += d;
        i++;
      }
      i++;
      tokens.push({ kind: "string", text: value, line: start });
    } else {
      let j = i;
      while (
        j < text.length &&
        !/[\s{};="']/.test(text[j]!) &&
        !text.startsWith("//", j) &&
        !text.startsWith("/*", j)
      )
        j++;
      tokens.push({ kind: "word", text: text.slice(i, j), line });
      i = j;
    }
  }
  return tokens;
}

/** Parses the text of a JAAS login configuration; throws JaasSyntaxError. */
export function parseJaasConfig(text: string): JaasConfig {
  const tokens = tokenize(text);
  let pos = 0;
  const lastLine = (): number => tokens[tokens.length - 1]?.line ?? 1;
  const next = (what: string): Token => {
    const t = tokens[pos++];
    if (t === undefined) throw new JaasSyntaxError(lastLine(), `expected ${what}, found the end of the file`);
    return t;
  };
  const expectPunct = (p: string, after: string): void => {
    const t = next(`'${p}'`);
    if (t.kind !== "punct" || t.text !== p)
      throw new JaasSyntaxError(t.line, `expected '${p}' ${after}, found "${t.text}"`);
  };
  const word = (what: string): Token => {
    const t = next(what);
    if (t.kind !== "word") throw new JaasSyntaxError(t.line, `expected ${what}, found "${t.text}"`);
    return t;
  };

  const config: JaasConfig = new Map();
  while (pos < tokens.length) {
    const name = word("a section name");
    if (config.has(name.text))
      throw new JaasSyntaxError(name.line, `section "${name.text}" is given more than once`);
    expectPunct("{", `after section name "${name.text}"`);
    const entries: JaasEntry[] = [];
    while (!(tokens[pos]?.kind === "punct" && tokens[pos]!.text === "}")) {
      const module = word(`a login module class name or '}' in section "${name.text}"`);
      const flag = word(`a control flag after ${module.text}`);
      if (!flags.has(flag.text.toLowerCase()))
        throw new JaasSyntaxError(
          flag.line,
          `control flag "${flag.text}" is not required, requisite, sufficient or optional`,
        );
      const options = new Map<string, string>();
      while (!(tokens[pos]?.kind === "punct" && tokens[pos]!.text === ";")) {
        const key = word(`an option name or ';' after ${module.text}`);
        expectPunct("=", `after option "${key.text}"`);
        const value = next(`a value for option "${key.text}"`);
        if (value.kind === "punct")
          throw new JaasSyntaxError(
            value.line,
            `expected a value for option "${key.text}", found "${value.text}"`,
          );
        options.set(key.text, value.text);
      }
      pos++; // ';'
      entries.push({ loginModule: module.text, flag: flag.text.toLowerCase(), options });
    }
    pos++; // '}'
    expectPunct(";", `after the '}' of section "${name.text}"`);
    config.set(name.text, entries);
  }
  return config;
}

/**
 * The DIGEST-MD5 users (name → password) of one section (SaslServerCallbackHandler's constructor): the
 * options named `user_<name>` of every entry. The section must exist and use only DigestLoginModule.
 */
export function serverCredentials(config: JaasConfig, section: string): Map<string, string> {
  const entries = config.get(section);
  if (entries === undefined) {
    const found = [...config.keys()].map((s) => `"${s}"`).join(", ");
    throw new Error(`has no section "${section}"${found === "" ? "" : ` (found ${found})`}`);
  }
  const users = new Map<string, string>();
  for (const e of entries) {
    if (e.loginModule !== digestLoginModule)
      throw new Error(`section "${section}" uses ${e.loginModule}; only ${digestLoginModule} is supported`);
    for (const [key, value] of e.options) {
      if (key.startsWith("user_")) users.set(key.slice("user_".length), value);
    }
  }
  return users;
}

/**
 * Reads a JAAS file and returns the DIGEST-MD5 users of `section`. Any failure (unreadable, bad syntax, no such
 * section) is a ConfigError naming `key` and the file, so start-up stops with a clear message.
 */
export function loadServerCredentials(file: string, section: string, key: string): Map<string, string> {
  let text: string;
  try {
    const bytes = readFileSync(file);
    if (bytes.length > jaasFileBytesMax) throw new Error(`larger than ${jaasFileBytesMax} bytes`);
    text = bytes.toString("utf8");
  } catch (e) {
    throw new ConfigError(key, `cannot read JAAS file ${file}: ${(e as Error).message}`);
  }
  try {
    return serverCredentials(parseJaasConfig(text), section);
  } catch (e) {
    const sep = e instanceof JaasSyntaxError ? ": " : " ";
    throw new ConfigError(key, `JAAS file ${file}${sep}${(e as Error).message}`);
  }
}

/** The zoo.cfg keys of SASL authentication. */
export interface SaslConfig {
  /** jaasLoginConfig: the JAAS file holding the server's users (absolute); undefined when not set. */
  jaasLoginConfig: string | undefined;
  /** The JAAS section of the users: zookeeper.sasl.serverconfig (or sasl.serverconfig), default "Server". */
  serverSection: string;
  /** zookeeper.superUser (or superUser): a SASL user who is also the super user. */
  superUser: string | undefined;
}

const saslKeys = new Set([
  "jaasLoginConfig",
  "zookeeper.sasl.serverconfig",
  "sasl.serverconfig",
  "zookeeper.superUser",
  "superUser",
]);

/** ZooKeeper's own providers (org.apache.zookeeper.server.auth), which an authProvider.N line may name. */
const knownProviders = [
  "SASLAuthenticationProvider",
  "DigestAuthenticationProvider",
  "IPAuthenticationProvider",
  "X509AuthenticationProvider",
];

/** Whether a zoo.cfg line is one of the SASL keys, or an authProvider.N naming a provider Corral has built in. */
export function isSaslConfigKey(key: string, value: string): boolean {
  if (saslKeys.has(key)) return true;
  return (
    /^authProvider\.[^.]+$/.test(key) &&
    knownProviders.some((p) => value.trim() === `org.apache.zookeeper.server.auth.${p}`)
  );
}

/**
 * The SASL keys of zoo.cfg. ZooKeeper reads them as system properties (zoo.cfg sets `zookeeper.<key>` for a line
 * it does not know), so both spellings are accepted. A relative jaasLoginConfig resolves against baseDir.
 */
export function saslConfigFromProperties(props: ReadonlyMap<string, string>, baseDir: string): SaslConfig {
  const file = props.get("jaasLoginConfig");
  if (file === "") throw new ConfigError("jaasLoginConfig", "must not be empty");
  const section = props.get("zookeeper.sasl.serverconfig") ?? props.get("sasl.serverconfig") ?? "Server";
  if (!/^[^\s{};="']+$/.test(section))
    throw new ConfigError("zookeeper.sasl.serverconfig", `"${section}" is not a JAAS section name`);
  const superUser = props.get("zookeeper.superUser") ?? props.get("superUser");
  return {
    jaasLoginConfig: file === undefined ? undefined : isAbsolute(file) ? file : resolve(baseDir, file),
    serverSection: section,
    superUser: superUser === "" ? undefined : superUser,
  };
}
