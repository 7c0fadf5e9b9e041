// The DIGEST-MD5 SASL server (RFC 2831, qop=auth) checked against a client written here from the RFC, and
// against the RFC's own example exchange.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { DigestMd5Server, SaslAuthError, parseDirectives } from "../../src/server/sasl-digest-md5.js";

// ---- a DIGEST-MD5 client, from RFC 2831 2.1.2.1 (independent of the server's code) ----

const md5 = (b: Buffer | string): Buffer => createHash("md5").update(b).digest();
const hexMd5 = (b: Buffer | string): string => md5(b).toString("hex");

/** Bytes of a name or password: ISO 8859-1 when every character fits it, else UTF-8 (RFC 2831 2.1.2.1). */
function nameBytes(s: string): Buffer {
  return [...s].every((c) => c.charCodeAt(0) <= 0xff) ? Buffer.from(s, "latin1") : Buffer.from(s, "utf8");
}

interface ClientInput {
  username: string;
  realm: string;
  password: string;
  nonce: string;
  cnonce: string;
  nc: string;
  digestUri: string;
  authzid?: string;
}

/** response-value with qop=auth and algorithm=md5-sess; `a2Prefix` "AUTHENTICATE" for response, "" for rspauth. */
function rfcResponse(c: ClientInput, a2Prefix: string): string {
  const inner = md5(
    Buffer.concat([
      nameBytes(c.username),
      Buffer.from(":"),
      nameBytes(c.realm),
      Buffer.from(":"),
      nameBytes(c.password),
    ]),
  );
  const a1 = Buffer.concat([
    inner,
    Buffer.from(`:${c.nonce}:${c.cnonce}`),
    ...(c.authzid === undefined ? [] : [Buffer.from(`:${c.authzid}`, "utf8")]),
  ]);
  const a2 = `${a2Prefix}:${c.digestUri}`;
  return hexMd5(`${hexMd5(a1)}:${c.nonce}:${c.nc}:${c.cnonce}:auth:${hexMd5(a2)}`);
}

function clientToken(c: ClientInput, response = rfcResponse(c, "AUTHENTICATE")): Buffer {
  const authzid = c.authzid === undefined ? "" : `,authzid="${c.authzid}"`;
  return Buffer.from(
    `charset=utf-8,username="${c.username}",realm="${c.realm}",nonce="${c.nonce}",nc=${c.nc},` +
      `cnonce="${c.cnonce}",digest-uri="${c.digestUri}",maxbuf=65536,response=${response},qop=auth${authzid}`,
    "utf8",
  );
}

/** Runs the exchange a ZooKeeper Java client makes: empty token, challenge, digest-response, rspauth. */
function exchange(
  server: DigestMd5Server,
  user: { username: string; password: string; authzid?: string },
): { challenge: Map<string, string>; input: ClientInput; rspauth: string } {
  const challenge = parseChallenge(server.evaluateResponse(new Uint8Array(0)));
  const input: ClientInput = {
    ...user,
    realm: challenge.get("realm")!,
    nonce: challenge.get("nonce")!,
    cnonce: randomBytes(12).toString("base64"),
    nc: "00000001",
    digestUri: "zookeeper/zk-sasl-md5",
  };
  const answer = Buffer.from(server.evaluateResponse(clientToken(input))).toString("utf8");
  const m = /^rspauth=([0-9a-f]{32})$/.exec(answer);
  assert.ok(m, `rspauth expected, got ${answer}`);
  return { challenge, input, rspauth: m[1]! };
}

/** A minimal challenge parser of the test's own: key=value or key="value" separated by commas. */
function parseChallenge(token: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  const text = Buffer.from(token).toString("utf8");
  for (const m of text.matchAll(/([a-z-]+)=(?:"([^"]*)"|([^,]*))(?:,|$)/g)) out.set(m[1]!, m[2] ?? m[3]!);
  return out;
}

const users = new Map([
  ["bob", "bobsecret"],
  ["super", "adminsecret"],
  ["é-latin", "pässword"],
  ["δ-greek", "πassword"],
]);

// ---- RFC 2831 section 4, the IMAP example ----

const rfcExample: ClientInput = {
  username: "chris",
  realm: "elwood.innosoft.com",
  password: "secret",
  nonce: "OA6MG9tEQGm2hh",
  cnonce: "OA6MHXh6VqTrRk",
  nc: "00000001",
  digestUri: "imap/elwood.innosoft.com",
};

test("the test's client reproduces RFC 2831's example response and rspauth", () => {
  assert.equal(rfcResponse(rfcExample, "AUTHENTICATE"), "d388dad90d4bbd760a152321f2143af7");
  assert.equal(rfcResponse(rfcExample, ""), "ea40f60335c427b5527b84dbabcdfffd");
});

test("the server answers RFC 2831's example client response with the example's rspauth", () => {
  const server = new DigestMd5Server({
    credentials: new Map([["chris", "secret"]]),
    protocol: "imap",
    serverName: "elwood.innosoft.com",
    nonce: () => "OA6MG9tEQGm2hh",
  });
  const challenge = parseChallenge(server.evaluateResponse(new Uint8Array(0)));
  assert.equal(challenge.get("realm"), "elwood.innosoft.com");
  assert.equal(challenge.get("nonce"), "OA6MG9tEQGm2hh");
  assert.equal(challenge.get("qop"), "auth");
  assert.equal(challenge.get("algorithm"), "md5-sess");
  assert.equal(challenge.get("charset"), "utf-8");
  // The client's message exactly as the RFC prints it.
  const rfcClient =
    'charset=utf-8,username="chris",realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",nc=00000001,' +
    'cnonce="OA6MHXh6VqTrRk",digest-uri="imap/elwood.innosoft.com",response=d388dad90d4bbd760a152321f2143af7,' +
    "qop=auth";
  const answer = server.evaluateResponse(Buffer.from(rfcClient, "utf8"));
  assert.equal(Buffer.from(answer).toString("utf8"), "rspauth=ea40f60335c427b5527b84dbabcdfffd");
  assert.equal(server.isComplete, true);
  assert.equal(server.authorizationId, "chris");
});

// ---- ZooKeeper's defaults ----

test("a user of the JAAS list authenticates in ZooKeeper's realm zk-sasl-md5 and gets a correct rspauth", () => {
  const server = new DigestMd5Server({ credentials: users });
  assert.equal(server.isComplete, false);
  const { challenge, input, rspauth } = exchange(server, { username: "bob", password: "bobsecret" });
  assert.equal(challenge.get("realm"), "zk-sasl-md5");
  assert.equal(rspauth, rfcResponse(input, ""));
  assert.equal(server.isComplete, true);
  assert.equal(server.authorizationId, "bob");
});

test("an authzid takes part in A1; the authorization id stays the user name, as ZooKeeper's handler sets it", () => {
  const server = new DigestMd5Server({ credentials: users });
  const { input, rspauth } = exchange(server, { username: "bob", password: "bobsecret", authzid: "bob" });
  assert.equal(rspauth, rfcResponse(input, ""));
  assert.equal(server.authorizationId, "bob");
  const other = new DigestMd5Server({ credentials: users });
  const { rspauth: r2 } = exchange(other, { username: "bob", password: "bobsecret", authzid: "someone" });
  assert.equal(other.authorizationId, "bob");
  assert.notEqual(r2, "");
});

test("names and passwords within ISO 8859-1 hash in it, others in UTF-8", () => {
  for (const [username, password] of [
    ["é-latin", "pässword"],
    ["δ-greek", "πassword"],
  ] as const) {
    const server = new DigestMd5Server({ credentials: users });
    const { input, rspauth } = exchange(server, { username, password });
    assert.equal(rspauth, rfcResponse(input, ""), username);
    assert.equal(server.authorizationId, username);
  }
});

test("each exchange gets a fresh random nonce", () => {
  const nonces = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const c = parseChallenge(new DigestMd5Server({ credentials: users }).evaluateResponse(new Uint8Array(0)));
    nonces.add(c.get("nonce")!);
  }
  assert.equal(nonces.size, 20);
});

// ---- failures ----

/** A fresh server past its challenge, and the client input that would succeed against it. */
function challenged(): { server: DigestMd5Server; input: ClientInput } {
  const server = new DigestMd5Server({ credentials: users });
  const c = parseChallenge(server.evaluateResponse(new Uint8Array(0)));
  const input: ClientInput = {
    username: "bob",
    password: "bobsecret",
    realm: c.get("realm")!,
    nonce: c.get("nonce")!,
    cnonce: "abcdefgh",
    nc: "00000001",
    digestUri: "zookeeper/zk-sasl-md5",
  };
  return { server, input };
}

test("a wrong password fails, and the exchange stays failed", () => {
  const { server, input } = challenged();
  assert.throws(
    () => server.evaluateResponse(clientToken({ ...input, password: "wrong" })),
    (e: unknown) => e instanceof SaslAuthError && /wrong password for user "bob"/.test(e.message),
  );
  assert.equal(server.isComplete, false);
  assert.equal(server.authorizationId, undefined);
  assert.throws(() => server.evaluateResponse(clientToken(input)), /already failed/);
});

test("responses that do not match the challenge or the service fail", () => {
  const cases: Array<[string, (i: ClientInput) => Buffer, RegExp]> = [
    ["unknown user", (i) => clientToken({ ...i, username: "mallory" }), /unknown user "mallory"/],
    ["other nonce", (i) => clientToken({ ...i, nonce: "forged" }), /nonce does not match/],
    ["nonce count 2", (i) => clientToken({ ...i, nc: "00000002" }), /nonce count 00000002/],
    ["other realm", (i) => clientToken({ ...i, realm: "elsewhere" }), /realm "elsewhere" was not offered/],
    [
      "other service",
      (i) => clientToken({ ...i, digestUri: "imap/zk-sasl-md5" }),
      /digest-uri "imap\/zk-sasl-md5"/,
    ],
    [
      "qop auth-int",
      (i) => Buffer.from(clientToken(i).toString("utf8").replace("qop=auth", "qop=auth-int")),
      /qop "auth-int" was not offered/,
    ],
    [
      "no response",
      (i) =>
        Buffer.from(
          clientToken(i)
            .toString("utf8")
            .replace(/response=[0-9a-f]+,/, ""),
        ),
      /has no response/,
    ],
    [
      "a directive twice",
      (i) => Buffer.concat([clientToken(i), Buffer.from(',username="bob"')]),
      /username is given twice/,
    ],
    ["unterminated quote", () => Buffer.from('username="bob'), /unterminated quoted value of username/],
    ["too long", () => Buffer.alloc(5000, 0x61), /too long/],
  ];
  for (const [name, make, message] of cases) {
    const { server, input } = challenged();
    assert.throws(
      () => server.evaluateResponse(make(input)),
      (e: unknown) => e instanceof SaslAuthError && message.test(e.message),
      name,
    );
  }
});

test("a non-empty first token and a token after completion are refused", () => {
  const server = new DigestMd5Server({ credentials: users });
  assert.throws(
    () => server.evaluateResponse(Buffer.from("username=bob")),
    /first client token must be empty/,
  );
  const done = new DigestMd5Server({ credentials: users });
  exchange(done, { username: "bob", password: "bobsecret" });
  assert.throws(() => done.evaluateResponse(new Uint8Array(0)), /already complete/);
});

test("directives: case-insensitive names, white space, empty elements and escapes in quoted strings", () => {
  const d = parseDirectives(' Username = "a\\"b" ,, NC=00000001 ,realm="x\\\\y"');
  assert.deepEqual(
    [...d],
    [
      ["username", 'a"b'],
      ["nc", "00000001"],
      ["realm", "x\\y"],
    ],
  );
});
