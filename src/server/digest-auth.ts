// The digest auth scheme (DigestAuthenticationProvider): "user:password" → id "user:base64(sha1(user:password))".
import { createHash } from "node:crypto";

export function digestId(userColonPassword: string): string | undefined {
  const i = userColonPassword.indexOf(":");
  if (i < 0) return undefined;
  const user = userColonPassword.slice(0, i);
  return `${user}:${createHash("sha1").update(userColonPassword, "utf8").digest("base64")}`;
}
