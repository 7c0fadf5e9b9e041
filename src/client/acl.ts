// ACL constants (ZooDefs.Ids) and the digest scheme's helpers (DigestAuthenticationProvider.generateDigest).
import { createHash } from "node:crypto";
import { Perms } from "../protocol/opcodes.js";
import type { ACL } from "../protocol/types.js";

export { Perms };

/** world:anyone with every permission. */
export const OPEN_ACL_UNSAFE: readonly ACL[] = Object.freeze([
  Object.freeze({ perms: Perms.ALL, id: Object.freeze({ scheme: "world", id: "anyone" }) }),
]);

/** Every permission for the creator's authenticated ids (the server expands `auth` to them). */
export const CREATOR_ALL_ACL: readonly ACL[] = Object.freeze([
  Object.freeze({ perms: Perms.ALL, id: Object.freeze({ scheme: "auth", id: "" }) }),
]);

/** world:anyone may read. */
export const READ_ACL_UNSAFE: readonly ACL[] = Object.freeze([
  Object.freeze({ perms: Perms.READ, id: Object.freeze({ scheme: "world", id: "anyone" }) }),
]);

/** "user:base64(sha1(user:password))", the id a digest ACL names (generateDigest). */
export function digestId(user: string, password: string): string {
  const hash = createHash("sha1").update(`${user}:${password}`, "utf8").digest("base64");
  return `${user}:${hash}`;
}

/** A digest ACL entry for user/password with `perms` (Perms bits, default all). */
export function digestAcl(user: string, password: string, perms: number = Perms.ALL): ACL {
  return { perms, id: { scheme: "digest", id: digestId(user, password) } };
}
