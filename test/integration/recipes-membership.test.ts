// PersistentNode and GroupMember against a real server: a node kept in place, a group whose members come and go.
import { test } from "node:test";
import assert from "node:assert/strict";
import { GroupMember, PersistentNode } from "../../src/recipes/index.js";
import { serverFixture } from "../helpers/server-fixture.js";
import { waitFor } from "../helpers/wait.js";

const { skip, connect } = serverFixture();

test(
  "PersistentNode: an ephemeral node deleted by someone else comes back, with the latest data",
  { skip, timeout: 30_000 },
  async () => {
    const zk = await connect();
    const other = await connect();
    const node = new PersistentNode(zk, "/pn/parents/made/eph", "ephemeral", "one");
    const created: string[] = [];
    node.on("created", (p) => created.push(p));
    await node.start();
    assert.equal((await other.exists("/pn/parents/made/eph"))?.ephemeralOwner, zk.sessionId);
    await node.setData("two");
    await other.delete("/pn/parents/made/eph");
    await waitFor(() => created.length === 2, { message: "re-created" });
    const { data, stat } = await other.getData("/pn/parents/made/eph");
    assert.equal(Buffer.from(data).toString(), "two");
    assert.equal(stat.ephemeralOwner, zk.sessionId);
    await node.close();
    assert.equal(await other.exists("/pn/parents/made/eph"), null);
  },
);

test(
  "PersistentNode: a sequential node is re-created under a new sequence number",
  { skip, timeout: 30_000 },
  async () => {
    const zk = await connect();
    const node = new PersistentNode(zk, "/pn-seq/member-", "ephemeral-sequential", "x");
    await node.start();
    const first = node.actual!;
    assert.match(first, /^\/pn-seq\/_c_[0-9a-f-]{36}-member-\d{10}$/);
    await zk.delete(first);
    await waitFor(() => node.actual !== first, { message: "re-created" });
    assert.deepEqual((await zk.getChildren("/pn-seq")).length, 1);
    await node.close();
  },
);

test(
  "GroupMember: members see each other join, change payload and leave",
  { skip, timeout: 30_000 },
  async () => {
    const a = new GroupMember(await connect(), "/group", "a", "pa");
    const b = new GroupMember(await connect(), "/group", "b", "pb");
    await a.start();
    await b.start();
    const members = (g: GroupMember): string =>
      [...g.currentMembers()].map(([id, p]) => `${id}=${Buffer.from(p).toString()}`).join(",");
    await waitFor(() => members(a) === "a=pa,b=pb", { message: `a sees both (${members(a)})` });
    assert.equal(members(b), "a=pa,b=pb");
    await b.setPayload("pb2");
    await waitFor(() => members(a) === "a=pa,b=pb2", { message: "a sees b's new payload" });
    await b.close();
    await waitFor(() => members(a) === "a=pa", { message: "a sees b leave" });
    await a.close();
  },
);
