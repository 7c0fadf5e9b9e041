// The server side of SASL DIGEST-MD5 (RFC 2831) with qop=auth, as the JDK's DigestMD5Server runs it for
// ZooKeeper (ZooKeeperSaslServer: protocol "zookeeper", server name and realm "zk-sasl-md5"). One instance per
// connection: it answers the client's empty first token with a challenge, checks the client's
// digest-response against the password of its user, and answers with rspauth. Integrity and confidentiality
// layers (auth-int, auth-conf) are not offered.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { CorralError } from "../base/errors.js";

/** The client failed to authenticate (ZooKeeper's SaslException): the connection gets AuthFailed. */
export class SaslAuthError extends CorralError {
  constructor(message: string) {
    super("SASL_AUTH", `DIGEST-MD5: ${message}`);
  }
}

/** ZooKeeperSaslServer.createSaslServer: SecurityUtils.createSaslServer(subject, "zookeeper", "zk-sasl-md5"). */
export const zookeeperSaslProtocol = "zookeeper";
export const zookeeperSaslServerName = "zk-sasl-md5";

/** RFC 2831 2.1.2: a digest-response is less than 4096 bytes. */
const digestResponseBytesMax = 4096;

export interface DigestMd5ServerOptions {
  /** user name → password (the JAAS server section's user_<name> options). */
  credentials: ReadonlyMap<string, string>;
  /** The serv-type of digest-uri. Default "zookeeper". */
  protocol?: string;
  /** The host of digest-uri. Default "zk-sasl-md5". */
  serverName?: string;
  /** The one realm offered. Default: the server name, as the JDK's DigestMD5Server does. */
  realm?: string;
  /** The nonce of the challenge. Default: 24 random bytes, base64. */
  nonce?: () => string;
}

type Step = "challenge" | "response" | "complete" | "failed";

export class DigestMd5Server {
  private step: Step = "challenge";
  private nonce = "";
  private authorizationIdValue: string | undefined;
  private readonly protocol: string;
  private readonly serverName: string;
  private readonly realm: string;

  constructor(private readonly options: DigestMd5ServerOptions) {
    this.protocol = options.protocol ?? zookeeperSaslProtocol;
    this.serverName = options.serverName ?? zookeeperSaslServerName;
    this.realm = options.realm ?? this.serverName;
  }

  get isComplete(): boolean {
    return this.step === "complete";
  }

  /** The user the client authenticated as, once complete (ZooKeeper makes it the id `sasl:<user>`). */
  get authorizationId(): string | undefined {
    return this.authorizationIdValue;
  }

  /** SaslServer.evaluateResponse: the next server token; throws SaslAuthError, after which every call fails. */
  evaluateResponse(token: Uint8Array): Uint8Array {
    try {
      switch (this.step) {
        case "challenge":
          return this.challenge(token);
        case "response":
          return this.checkResponse(token);
        case "complete":
          throw new SaslAuthError("authentication is already complete");
        case "failed":
          throw new SaslAuthError("authentication has already failed");
      }
    } catch (e) {
      this.step = "failed";
      throw e;
    }
  }

  /** RFC 2831 2.1.1: the digest-challenge. */
  private challenge(token: Uint8Array): Uint8Array {
    if (token.length !== 0) throw new SaslAuthError("the first client token must be empty");
    this.nonce = this.options.nonce?.() ?? randomBytes(24).toString("base64");
    this.step = "response";
    const text =
      `realm=${quote(this.realm)},nonce=${quote(this.nonce)},qop="auth",` +
      `charset=utf-8,algorithm=md5-sess`;
    return Buffer.from(text, "utf8");
  }

  /** RFC 2831 2.1.2 and 2.1.3: checks the digest-response; answers response-auth. */
  private checkResponse(token: Uint8Array): Uint8Array {
    if (token.length >= digestResponseBytesMax)
      throw new SaslAuthError(`digest-response of ${token.length} bytes is too long`);
    let d = parseDirectives(Buffer.from(token).toString("latin1"));
    const utf8 = d.get("charset") !== undefined;
    if (utf8) {
      if (d.get("charset")!.toLowerCase() !== "utf-8") throw new SaslAuthError(`charset must be utf-8`);
      let text: string;
      try {
        text = new TextDecoder("utf-8", { fatal: true }).decode(token);
      } catch {
        throw new SaslAuthError("digest-response is not valid UTF-8");
      }
      d = parseDirectives(text);
    }
    const required = (name: string): string => {
      const v = d.get(name);
      if (v === undefined) throw new SaslAuthError(`digest-response has no ${name}`);
      return v;
    };
    const username = required("username");
    const nonce = required("nonce");
    const cnonce = required("cnonce");
    const nc = required("nc");
    const response = required("response").toLowerCase();
    const digestUri = required("digest-uri");
    const qop = d.get("qop") ?? "auth";
    const realm = d.get("realm") ?? "";
    const authzid = d.get("authzid");
    if (qop !== "auth") throw new SaslAuthError(`qop "${qop}" was not offered (only auth)`);
    if (nonce !== this.nonce) throw new SaslAuthError("nonce does not match the challenge");
    if (!/^[0-9a-fA-F]{8}$/.test(nc) || parseInt(nc, 16) !== 1)
      throw new SaslAuthError(`nonce count ${nc} is not 00000001`);
    if (d.has("realm") && realm !== this.realm) throw new SaslAuthError(`realm "${realm}" was not offered`);
    const expectedUri = `${this.protocol}/${this.serverName}`;
    if (digestUri.toLowerCase() !== expectedUri.toLowerCase())
      throw new SaslAuthError(`digest-uri "${digestUri}" is not "${expectedUri}"`);
    const password = this.options.credentials.get(username);
    if (password === undefined) throw new SaslAuthError(`unknown user "${username}"`);
    const p: DigestParams = { username, realm, password, nonce, cnonce, nc, qop, digestUri, authzid, utf8 };
    const expected = Buffer.from(responseValue(p, "AUTHENTICATE"), "latin1");
    const got = Buffer.from(response, "latin1");
    if (got.length !== expected.length || !timingSafeEqual(got, expected))
      throw new SaslAuthError(`wrong password for user "${username}"`);
    // SaslServerCallbackHandler.handleAuthorizeCallback authorizes every authenticated user under its own name.
    this.authorizationIdValue = username;
    this.step = "complete";
    return Buffer.from(`rspauth=${responseValue(p, "")}`, "utf8");
  }
}

/** The inputs of RFC 2831 2.1.2.1's response-value. */
export interface DigestParams {
  username: string;
  realm: string;
  password: string;
  nonce: string;
  cnonce: string;
  nc: string;
  qop: string;
  digestUri: string;
  authzid: string | undefined;
  /** charset=utf-8 was given: user name, realm and password outside ISO 8859-1 are hashed as UTF-8. */
  utf8: boolean;
}

/**
 * RFC 2831 2.1.2.1 with algorithm md5-sess and qop auth: HEX(KD(HEX(H(A1)), nonce:nc:cnonce:qop:HEX(H(A2)))),
 * A1 = H(user:realm:passwd):nonce:cnonce[:authzid], A2 = method:digest-uri ("AUTHENTICATE" for the client's
 * response, "" for the server's rspauth).
 */
export function responseValue(p: DigestParams, method: "AUTHENTICATE" | ""): string {
  const enc = (s: string): Buffer => Buffer.from(s, p.utf8 ? "utf8" : "latin1");
  const userRealmPass = Buffer.concat([
    iso8859(p.username, p.utf8),
    Buffer.from(":"),
    iso8859(p.realm, p.utf8),
    Buffer.from(":"),
    iso8859(p.password, p.utf8),
  ]);
  const a1Parts = [md5(userRealmPass), Buffer.from(":"), enc(p.nonce), Buffer.from(":"), enc(p.cnonce)];
  if (p.authzid !== undefined) a1Parts.push(Buffer.from(":"), Buffer.from(p.authzid, "utf8"));
  const hexA1 = md5(Buffer.concat(a1Parts)).toString("hex");
  const hexA2 = md5(enc(`${method}:${p.digestUri}`)).toString("hex");
  return md5(enc(`${hexA1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${hexA2}`)).toString("hex");
}

function md5(b: Buffer): Buffer {
  return createHash("md5").update(b).digest();
}

/** RFC 2831: a string whose characters all fit ISO 8859-1 is hashed in it; otherwise (charset=utf-8) in UTF-8. */
function iso8859(s: string, utf8: boolean): Buffer {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) {
      if (!utf8) throw new SaslAuthError("a non-ISO-8859-1 name or password needs charset=utf-8");
      return Buffer.from(s, "utf8");
    }
  }
  return Buffer.from(s, "latin1");
}

/** A quoted-string (RFC 2616): `"` and `\` escaped. */
function quote(s: string): string {
  return `"${s.replace(/["\\]/g, (c) => "\\" + c)}"`;
}

/**
 * RFC 2831 7.1: `#( token "=" ( token | quoted-string ) )`, comma separated with optional white space and
 * empty elements. Names are case-insensitive; a name given twice is an error.
 */
export function parseDirectives(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  const skipWs = (): void => {
    while (i < text.length && /[ \t\r\n]/.test(text[i]!)) i++;
  };
  for (;;) {
    skipWs();
    while (text[i] === ",") {
      i++;
      skipWs();
    }
    if (i >= text.length) return out;
    const nameStart = i;
    while (i < text.length && /[^ \t\r\n=,"]/.test(text[i]!)) i++;
    const name = text.slice(nameStart, i).toLowerCase();
    if (name === "") throw new SaslAuthError(`bad directive at offset ${nameStart}`);
    skipWs();
    if (text[i] !== "=") throw new SaslAuthError(`directive ${name} has no '='`);
    i++;
    skipWs();
    let value = "";
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new SaslAuthError(`unterminated quoted value of ${name}`);
        const c = text[i]!;
        if (c === '"') break;
        if (c === "\\" && i + 1 < text.length) i++;
        value += text[i];
        i++;
      }
      i++;
    } else {
      const start = i;
      while (i < text.length && /[^ \t\r\n,"]/.test(text[i]!)) i++;
      value = text.slice(start, i);
    }
    if (out.has(name)) throw new SaslAuthError(`directive ${name} is given twice`);
    out.set(name, value);
    skipWs();
    if (i < text.length && text[i] !== ",") throw new SaslAuthError(`expected ',' after directive ${name}`);
  }
}
