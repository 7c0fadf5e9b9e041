// Session passwords: 16 random bytes each, never repeated across refills of the entropy pool, each its own copy.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  checkSessionPassword,
  newSessionPassword,
  sessionPasswordBytes,
} from "../../src/server/session-password.js";

test("passwords are distinct 16-byte copies across several refills of the pool, and check only against themselves", () => {
  const seen = new Set<string>();
  const passwords: Uint8Array[] = [];
  for (let i = 0; i < 1000; i++) {
    const p = newSessionPassword();
    assert.equal(p.length, sessionPasswordBytes);
    assert.equal(p.byteLength, p.buffer.byteLength, "a copy, not a view of the pool");
    seen.add(Buffer.from(p).toString("hex"));
    passwords.push(p);
  }
  assert.equal(seen.size, 1000);
  const first = Uint8Array.from(passwords[0]!);
  passwords[1]!.fill(0);
  assert.deepEqual(passwords[0], first, "changing one leaves the others");
  assert.ok(checkSessionPassword(passwords[2]!, Uint8Array.from(passwords[2]!)));
  assert.ok(!checkSessionPassword(passwords[2]!, passwords[3]!));
});
