// Sessions: an abandoned session expires (its ephemerals go, watchers hear NodeDeleted); a client that
// reconnects with its session id and password before the timeout keeps the session. Raw protocol client.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { RawClient, SessionRefusedError } from "../helpers/raw-client.js";
import { interopTarget, skipReason, startServer, type ManagedServer } from "../helpers/servers.js";
import { waitFor } from "../helpers/wait.js";

const target = interopTarget();
const skip = skipReason(target);
const EPHEMERAL = 1;
const NODE_DELETED = 2;
/** tickTime 200 ms: session timeouts negotiate into [400, 4000] ms, so expiry is quick to observe. */
const tickTime = 200;

let server: ManagedServer | undefined;
const clients: RawClient[] = [];
before(async () => {
  if (skip === undefined) server = await startServer(target, { tickTime });
});
after(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await server?.stop();
});

async function connect(options: Parameters<typeof RawClient.connect>[2] = {}): Promise<RawClient> {
  assert.ok(server);
  const c = await RawClient.connect(server.host, server.port, options);
  clients.push(c);
  return c;
}

test(
  `an abandoned session expires: its ephemeral is deleted and a watcher hears NodeDeleted on ${target}`,
  { skip },
  async () => {
    const a = await connect({ sessionTimeoutMs: 1_000, ping: false });
    assert.ok(a.timeoutMs >= 2 * tickTime && a.timeoutMs <= 20 * tickTime, `negotiated ${a.timeoutMs} ms`);
    await a.create("/expiring", Buffer.from("a"), EPHEMERAL);
    const b = await connect({ sessionTimeoutMs: 4_000 });
    const stat = await b.exists("/expiring", true);
    assert.equal(stat?.ephemeralOwner, a.sessionId);

    a.destroy(); // no closeSession: only the server's session timeout can end it
    await waitFor(() => b.events.some((e) => e.type === NODE_DELETED && e.path === "/expiring"), {
      timeoutMs: 10 * a.timeoutMs + 5_000,
      message: "NodeDeleted for /expiring after session A expires",
    });
    assert.equal(await b.exists("/expiring"), null);
    assert.equal(b.closed, false, "session B must survive");

    // The expired session cannot be resumed: the server answers timeOut 0.
    await assert.rejects(connect({ sessionId: a.sessionId, password: a.password }), SessionRefusedError);
  },
);

test(
  `reconnecting with the session id and password before expiry keeps the session on ${target}`,
  { skip },
  async () => {
    const timeoutMs = 1_200;
    const a = await connect({ sessionTimeoutMs: timeoutMs });
    await a.create("/kept", Buffer.from("a"), EPHEMERAL);
    // A control session with the same timeout, abandoned at the same moment: when its ephemeral is gone, A's
    // original connection has been dead for longer than A's timeout too.
    const control = await connect({ sessionTimeoutMs: timeoutMs, ping: false });
    await control.create("/control", null, EPHEMERAL);
    const observer = await connect({ sessionTimeoutMs: 4_000 });

    a.destroy();
    control.destroy();
    const resumed = await connect({
      sessionId: a.sessionId,
      password: a.password,
      sessionTimeoutMs: timeoutMs,
    });
    assert.equal(resumed.sessionId, a.sessionId);
    assert.equal((await resumed.exists("/kept"))?.ephemeralOwner, a.sessionId);

    await waitFor(async () => (await observer.exists("/control")) === null, {
      timeoutMs: 10 * timeoutMs + 5_000,
      message: "the control session to expire",
    });
    const kept = await observer.exists("/kept");
    assert.equal(
      kept?.ephemeralOwner,
      a.sessionId,
      "the resumed session's ephemeral must outlive the control's",
    );
    assert.equal((await resumed.setData("/kept", Buffer.from("still mine"))).version, 1);
  },
);

test(`a wrong session password is refused with timeOut 0 on ${target}`, { skip }, async () => {
  const a = await connect({ sessionTimeoutMs: 4_000 });
  const wrong = Buffer.from(a.password);
  wrong[0] = (wrong[0]! + 1) & 0xff;
  await assert.rejects(connect({ sessionId: a.sessionId, password: wrong }), SessionRefusedError);
  // ZooKeeper drops the session's current connection on any reconnect attempt (closeSession on the old
  // cnxn before checking the password), but the session itself lives: the right password resumes it.
  const resumed = await connect({ sessionId: a.sessionId, password: a.password });
  assert.equal(resumed.sessionId, a.sessionId);
  assert.ok(await resumed.exists("/zookeeper"), "the real session keeps working");
});
