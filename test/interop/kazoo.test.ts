// kazoo (python3-kazoo, a client no one here wrote) works against the target server.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { repoRoot } from "../helpers/managed-process.js";
import { interopTarget, skipReason, startServer, type ManagedServer } from "../helpers/servers.js";

const python = "/usr/bin/python3";
const script = join(repoRoot, "test", "interop", "kazoo_script.py");
const target = interopTarget();

function kazooMissing(): string | undefined {
  if (!existsSync(python)) return `${python} is missing`;
  if (!existsSync("/usr/lib/python3/dist-packages/kazoo")) return "python3-kazoo is not installed";
  return undefined;
}

let server: ManagedServer | undefined;
before(async () => {
  if (skipReason(target, kazooMissing()) === undefined) server = await startServer(target);
});
after(async () => {
  await server?.stop();
});

test(
  `kazoo creates, reads, watches, transacts and deletes on ${target}`,
  { skip: skipReason(target, kazooMissing()), timeout: 60_000 },
  async () => {
    assert.ok(server);
    const { stdout } = await promisify(execFile)(python, [script, server.connectString, "/kazoo-test"], {
      timeout: 45_000,
    });
    const out = JSON.parse(stdout) as Record<string, unknown>;
    assert.equal(out.create_persistent, "/kazoo-test");
    assert.equal(out.create_ephemeral, "/kazoo-test/eph");
    assert.deepEqual(out.create_sequential, [
      "/kazoo-test/seq-0000000001",
      "/kazoo-test/seq-0000000002",
      "/kazoo-test/seq-0000000003",
    ]);
    assert.equal(out.create_ephemeral_sequential, "/kazoo-test/eseq-0000000004");
    assert.equal(out.create_existing, "NodeExistsError");
    assert.deepEqual(out.get, { data: "root-data", version: 0, ephemeral_owner: 0 });
    assert.equal(out.ephemeral_owner_is_session, true);
    assert.equal(out.set_version, 1);
    assert.equal(out.set_bad_version, "BadVersionError");
    assert.deepEqual(out.children, [
      "eph",
      "eseq-0000000004",
      "seq-0000000001",
      "seq-0000000002",
      "seq-0000000003",
    ]);
    assert.equal(out.data_watch_fired, true);
    assert.equal(out.child_watch_fired, true);
    assert.deepEqual(out.events, {
      data: { type: "CHANGED", path: "/kazoo-test" },
      child: { type: "CHILD", path: "/kazoo-test" },
    });
    assert.deepEqual(out.transaction, ["/kazoo-test/tx-a", "/kazoo-test/tx-b", "ZnodeStat", true]);
    assert.deepEqual(out.failed_transaction, ["RolledBackError", "NoNodeError"]);
    assert.equal(out.tx_c_exists, false);
    assert.equal(out.tx_a_data, "a2");
    assert.equal(out.deleted_exists, false);
    assert.equal(out.delete_missing, "NoNodeError");
    assert.equal(out.root_exists_after_recursive_delete, false);
  },
);
