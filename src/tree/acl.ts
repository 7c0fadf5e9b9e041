// ACL checks and validation as ZooKeeper's server does them (ZooKeeperServer.checkACL,
// PrepRequestProcessor.fixupACL, the ip and digest AuthenticationProviders), and a shared-list cache.
// Pure: no I/O, no clock, no randomness. Digest hashing is the server's: ids arrive as "user:base64(sha1)".
import type { ACL, ClientInfo, Id } from "../protocol/types.js";
import { Perms } from "../protocol/opcodes.js";
import { Code } from "../protocol/error-codes.js";
import { isValidX500Name } from "./x500-name.js";

/** ZooDefs.Ids.ANYONE_ID_UNSAFE */
export const anyoneId: Id = Object.freeze({ scheme: "world", id: "anyone" });
/** ZooDefs.Ids.OPEN_ACL_UNSAFE: world:anyone with every permission. */
export const openAclUnsafe: readonly ACL[] = Object.freeze([
  Object.freeze({ perms: Perms.ALL, id: anyoneId }),
]);
/** ZooDefs.Ids.READ_ACL_UNSAFE: world:anyone, READ only (the ACL of /zookeeper/config, ZOOKEEPER-2014). */
export const readAclUnsafe: readonly ACL[] = Object.freeze([
  Object.freeze({ perms: Perms.READ, id: anyoneId }),
]);
/** ZooDefs.Ids.CREATOR_ALL_ACL: "auth" expands to the creator's authenticated ids. */
export const creatorAllAcl: readonly ACL[] = Object.freeze([
  Object.freeze({ perms: Perms.ALL, id: Object.freeze({ scheme: "auth", id: "" }) }),
]);

/** The id ZooKeeperServer adds to a connection authenticated as the super digest. */
export const superId: Id = Object.freeze({ scheme: "super", id: "" });

/**
 * ZooKeeperServer.checkACL: Code.ok or Code.noAuth. An empty ACL passes; a session holding the "super" id (or,
 * given superDigestId, the digest id "super:<hash>") passes; otherwise some entry must carry a bit of `perm` and
 * match: world:anyone, or an auth id of the same scheme that the scheme's provider matches (digest: equal;
 * ip: address within the entry's CIDR). Other schemes have no provider here and match nothing.
 */
export function checkACL(
  acl: readonly ACL[],
  perm: number,
  authInfo: readonly Id[],
  superDigestId?: string,
): number {
  if (acl.length === 0) return Code.ok;
  for (const a of authInfo) {
    if (a.scheme === "super") return Code.ok;
    if (superDigestId !== undefined && a.scheme === "digest" && a.id === superDigestId) return Code.ok;
  }
  for (const a of acl) {
    if ((a.perms & perm) === 0) continue;
    const { scheme, id } = a.id;
    if (scheme === "world" && id === "anyone") return Code.ok;
    const matches = providerMatcher(scheme);
    if (matches === undefined) continue;
    for (const authId of authInfo) {
      if (authId.scheme === scheme && matches(authId.id, id)) return Code.ok;
    }
  }
  return Code.noAuth;
}

function providerMatcher(scheme: string): ((id: string, aclExpr: string) => boolean) | undefined {
  if (scheme === "digest") return (id, aclExpr) => id === aclExpr;
  if (scheme === "ip") return ipMatches;
  // X509AuthenticationProvider.matches: the certificate's subject DN, as given at the TLS handshake.
  if (scheme === "x509") return (id, aclExpr) => id === aclExpr;
  // SASLAuthenticationProvider.matches: the same user, or a session authenticated as the sasl user "super".
  if (scheme === "sasl") return (id, aclExpr) => id === "super" || id === aclExpr;
  return undefined;
}

/** AuthenticationProvider.isAuthenticated: the ids that an "auth" ACL entry expands to. */
function isAuthenticatedScheme(scheme: string): boolean {
  return scheme === "digest" || scheme === "sasl" || scheme === "x509";
}

/**
 * PrepRequestProcessor.fixupACL: drops duplicate entries, refuses an empty list, expands "auth" to each of the
 * session's authenticated ids (InvalidACL when it has none), and checks each other id with its scheme's
 * provider (world only as "anyone"; digest "user:hash"; ip address[/bits]). ZooKeeper 3.8 does not check
 * perms bits, so neither do we.
 */
export function fixupACL(acl: readonly ACL[], authInfo: readonly Id[]): { err: number; acl: ACL[] } {
  const uniq = removeDuplicates(acl);
  if (uniq.length === 0) return { err: Code.invalidACL, acl: [] };
  const rv: ACL[] = [];
  for (const a of uniq) {
    const { scheme, id } = a.id;
    if (scheme === "world" && id === "anyone") {
      rv.push(a);
    } else if (scheme === "auth") {
      let authIdValid = false;
      for (const cid of authInfo) {
        if (isAuthenticatedScheme(cid.scheme)) {
          authIdValid = true;
          rv.push({ perms: a.perms, id: { scheme: cid.scheme, id: cid.id } });
        }
      }
      if (!authIdValid) return { err: Code.invalidACL, acl: [] };
    } else {
      if (!isValidId(scheme, id)) return { err: Code.invalidACL, acl: [] };
      rv.push(a);
    }
  }
  return { err: Code.ok, acl: rv };
}

function removeDuplicates(acl: readonly ACL[]): ACL[] {
  if (acl.length === 1) return [acl[0]!];
  const seen = new Set<string>();
  const out: ACL[] = [];
  for (const a of acl) {
    const k = aclEntryKey(a);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(a);
  }
  return out;
}

/** ServerAuthenticationProvider.isValid for the providers ZooKeeper registers by default (ip, digest). */
export function isValidId(scheme: string, id: string): boolean {
  if (scheme === "digest") return javaSplit(id, ":").length === 2;
  if (scheme === "x509") return isValidX500Name(id);
  // SASLAuthenticationProvider.isValid: new KerberosName(id) accepts a name without '@', or name[/host]@realm.
  if (scheme === "sasl") return !id.includes("@") || /^[^/@]*(\/[^/@]*)?@[^/@]*$/.test(id);
  if (scheme === "ip") {
    const parts = splitOnce(id, "/");
    if (v4addr2Bytes(parts[0]) === null) return false;
    if (parts.length === 2) {
      const bits = parseJavaInt(parts[1]!);
      if (bits === null || bits < 0 || bits > 32) return false;
    }
    return true;
  }
  return false;
}

/** IPAuthenticationProvider.matches: IPv4 only, with an optional /bits mask on the ACL's address. */
export function ipMatches(id: string, aclExpr: string): boolean {
  const parts = splitOnce(aclExpr, "/");
  const aclAddr = v4addr2Bytes(parts[0]);
  if (aclAddr === null) return false;
  let bits = 32;
  if (parts.length === 2) {
    const b = parseJavaInt(parts[1]!);
    if (b === null || b < 0 || b > 32) return false;
    bits = b;
  }
  const remote = v4addr2Bytes(id);
  if (remote === null) return false;
  mask(aclAddr, bits);
  mask(remote, bits);
  for (let i = 0; i < 4; i++) if (remote[i] !== aclAddr[i]) return false;
  return true;
}

function v4addr2Bytes(addr: string | undefined): number[] | null {
  if (addr === undefined) return null;
  const parts = addr.split(".");
  if (parts.length !== 4) return null;
  const b: number[] = [];
  for (const p of parts) {
    const v = parseJavaInt(p);
    if (v === null || v < 0 || v > 255) return null;
    b.push(v);
  }
  return b;
}

function mask(b: number[], bits: number): void {
  let start = Math.floor(bits / 8);
  let startMask = ~((1 << (8 - (bits % 8))) - 1) & 0xff;
  while (start < b.length) {
    b[start] = b[start]! & startMask;
    startMask = 0;
    start++;
  }
}

/** Integer.parseInt: optional sign, decimal digits, within int range; else null. */
function parseJavaInt(s: string): number | null {
  if (!/^[+-]?[0-9]+$/.test(s)) return null;
  const v = Number(s);
  return v >= -2147483648 && v <= 2147483647 ? v : null;
}

function splitOnce(s: string, sep: string): string[] {
  const at = s.indexOf(sep);
  return at < 0 ? [s] : [s.substring(0, at), s.substring(at + sep.length)];
}

/** Java's String.split(regex-literal) without a limit: trailing empty strings are dropped. */
function javaSplit(s: string, sep: string): string[] {
  const parts = s.split(sep);
  while (parts.length > 1 && parts[parts.length - 1] === "") parts.pop();
  if (parts.length === 1 && parts[0] === "" && s.length > 0) return [];
  return parts;
}

/** FinalRequestProcessor getACL without ADMIN: digest ids shown as "user:x". */
export function maskDigests(acl: readonly ACL[]): ACL[] {
  return acl.map((a) =>
    a.id.scheme === "digest"
      ? { perms: a.perms, id: { scheme: "digest", id: a.id.id.replace(/:.*/, ":x") } }
      : a,
  );
}

/** AuthUtil.getClientInfos (whoAmI): digest users are the part before ':', ip the address, others "". */
export function clientInfos(authInfo: readonly Id[]): ClientInfo[] {
  return authInfo.map((id) => {
    let user = "";
    if (id.scheme === "digest") user = id.id.split(":")[0] ?? "";
    else if (id.scheme === "ip" || id.scheme === "sasl" || id.scheme === "x509") user = id.id;
    return { authScheme: id.scheme, user };
  });
}

function aclEntryKey(a: ACL): string {
  return `${a.perms}\u0000${a.id.scheme}\u0000${a.id.id}`;
}

/** A canonical key for a whole ACL list, order kept (ZooKeeper compares lists in order too). */
export function aclListKey(acl: readonly ACL[]): string {
  return acl.map(aclEntryKey).join("\u0001");
}

function sameAclList(a: readonly ACL[], b: readonly ACL[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.perms !== y.perms || x.id.scheme !== y.id.scheme || x.id.id !== y.id.id) return false;
  }
  return true;
}

/**
 * ReferenceCountedACLCache: one frozen array per distinct ACL list, shared by every node that has it, and
 * dropped when the last such node goes.
 */
export class AclCache {
  private readonly lists = new Map<string, { acl: readonly ACL[]; refs: number }>();
  /** Lists already interned, by identity: a snapshot load hands the same array for every node that has it. */
  private readonly seen = new WeakMap<readonly ACL[], { acl: readonly ACL[]; refs: number }>();

  /** The entry interned last: most creates in a row carry the same list, compared here without a key. */
  private last: { acl: readonly ACL[]; refs: number } | null = null;

  /** The shared copy of `acl`, with one more reference. */
  intern(acl: readonly ACL[]): readonly ACL[] {
    const known = this.seen.get(acl);
    if (known !== undefined && known.refs > 0) {
      known.refs++;
      return known.acl;
    }
    const last = this.last;
    if (last !== null && last.refs > 0 && sameAclList(last.acl, acl)) {
      last.refs++;
      return last.acl;
    }
    const key = aclListKey(acl);
    let entry = this.lists.get(key);
    if (entry === undefined) {
      const frozen = Object.freeze(
        acl.map((a) =>
          Object.freeze({ perms: a.perms, id: Object.freeze({ scheme: a.id.scheme, id: a.id.id }) }),
        ),
      );
      entry = { acl: frozen, refs: 0 };
      this.lists.set(key, entry);
    }
    entry.refs++;
    this.seen.set(acl, entry);
    this.last = entry;
    return entry.acl;
  }

  /** Drops one reference to a list obtained from intern(). */
  release(acl: readonly ACL[]): void {
    const key = aclListKey(acl);
    const entry = this.lists.get(key);
    if (entry === undefined) return;
    if (--entry.refs <= 0) this.lists.delete(key);
  }

  /** Every list with a reference, each once (the shared copies intern() hands out). */
  inUse(): (readonly ACL[])[] {
    return [...this.lists.values()].map((e) => e.acl);
  }

  get size(): number {
    return this.lists.size;
  }
}
