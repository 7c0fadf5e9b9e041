// JAAS login configuration files: the server section's DIGEST-MD5 users, the zoo.cfg keys that point at them,
// and errors that name the key, the file and the line.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  isSaslConfigKey,
  loadServerCredentials,
  parseJaasConfig,
  saslConfigFromProperties,
  serverCredentials,
} from "../../src/server/jaas-config.js";
import { configFromProperties, parseProperties } from "../../src/server/config.js";
import { ConfigError } from "../../src/base/errors.js";

const zookeeperExample = `
Server {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       user_super="adminsecret"
       user_bob="bobsecret";
};
Client {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       username="bob"
       password="bobsecret";
};
`;

test("the Server section of ZooKeeper's example gives its user_ options as users", () => {
  const config = parseJaasConfig(zookeeperExample);
  assert.deepEqual([...config.keys()], ["Server", "Client"]);
  const server = config.get("Server")![0]!;
  assert.equal(server.loginModule, "org.apache.zookeeper.server.auth.DigestLoginModule");
  assert.equal(server.flag, "required");
  assert.deepEqual(
    [...serverCredentials(config, "Server")],
    [
      ["super", "adminsecret"],
      ["bob", "bobsecret"],
    ],
  );
  // The Client section has no user_ options: no users.
  assert.equal(serverCredentials(config, "Client").size, 0);
});

test("comments, single quotes, escapes, unquoted values and several entries are read", () => {
  const config = parseJaasConfig(`
    // a line comment
    QuorumServer { /* a block
                      comment */
      org.apache.zookeeper.server.auth.DigestLoginModule sufficient user_a='x y' user_b="q\\"uote";
      org.apache.zookeeper.server.auth.DigestLoginModule optional user_c=plain debug=true;
    };`);
  assert.deepEqual(
    [...serverCredentials(config, "QuorumServer")],
    [
      ["a", "x y"],
      ["b", 'q"uote'],
      ["c", "plain"],
    ],
  );
});

test("syntax errors name the line", () => {
  const cases: Array<[string, RegExp]> = [
    ['Server {\n m.Module required user_a="b"\n};', /line 3: expected an option name or ';'/],
    ["Server \n m.Module required;\n};", /line 2: expected '\{' after section name "Server"/],
    ["Server {\n m.Module mandatory;\n};", /line 2: control flag "mandatory" is not required/],
    ["Server {\n m.Module required;\n}", /expected ';'.*found the end of the file/],
    ['Server {\n m.Module required user_a="open;\n};', /line 2: unterminated "quoted string/],
    ["Server {\n m.Module required user_a=;\n};", /line 2: expected a value for option "user_a", found ";"/],
    ["A { m.M required; };\nA { m.M required; };", /line 2: section "A" is given more than once/],
    ["/* never closed", /unterminated \/\* comment/],
  ];
  for (const [text, message] of cases) assert.throws(() => parseJaasConfig(text), message, text);
});

test("loading stops with a ConfigError naming the key and the file", () => {
  const dir = mkdtempSync(join(tmpdir(), "corral-jaas-"));
  try {
    const good = join(dir, "good.conf");
    writeFileSync(good, zookeeperExample);
    assert.equal(loadServerCredentials(good, "Server", "jaasLoginConfig").get("bob"), "bobsecret");

    const check = (file: string, section: string, message: RegExp): void =>
      assert.throws(
        () => loadServerCredentials(file, section, "jaasLoginConfig"),
        (e: unknown) =>
          e instanceof ConfigError &&
          e.key === "jaasLoginConfig" &&
          e.message.includes(file) &&
          message.test(e.message),
      );
    check(good, "ZkServer", /has no section "ZkServer" \(found "Server", "Client"\)/);
    check(join(dir, "missing.conf"), "Server", /cannot read JAAS file/);
    const bad = join(dir, "bad.conf");
    writeFileSync(
      bad,
      "Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_bob=\n};\n",
    );
    check(bad, "Server", /bad\.conf: line 4: expected a value for option "user_bob"/);
    const krb = join(dir, "krb.conf");
    writeFileSync(krb, "Server { com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true; };");
    check(krb, "Server", /uses com\.sun\.security\.auth\.module\.Krb5LoginModule; only .*DigestLoginModule/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("zoo.cfg: jaasLoginConfig resolves against the file's dir; the section and super user have ZooKeeper's keys", () => {
  const c = configFromProperties(
    parseProperties(
      "dataDir=/d\njaasLoginConfig=conf/jaas.conf\nzookeeper.sasl.serverconfig=ZkServer\n" +
        "superUser=bob\nauthProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n",
    ),
    "/base",
  );
  assert.deepEqual(c.sasl, {
    jaasLoginConfig: "/base/conf/jaas.conf",
    serverSection: "ZkServer",
    superUser: "bob",
  });
  assert.deepEqual(c.unknownKeys, []);
  const dflt = saslConfigFromProperties(new Map([["sasl.serverconfig", "Other"]]), "/base");
  assert.deepEqual(dflt, { jaasLoginConfig: undefined, serverSection: "Other", superUser: undefined });
  assert.equal(saslConfigFromProperties(new Map(), "/b").serverSection, "Server");
  assert.throws(
    () => saslConfigFromProperties(new Map([["jaasLoginConfig", ""]]), "/b"),
    (e: unknown) => e instanceof ConfigError && e.key === "jaasLoginConfig",
  );
  assert.throws(
    () => saslConfigFromProperties(new Map([["zookeeper.sasl.serverconfig", "a b"]]), "/b"),
    (e: unknown) => e instanceof ConfigError && e.key === "zookeeper.sasl.serverconfig",
  );
});

test("authProvider.N is known for ZooKeeper's own providers; another class is reported as unknown", () => {
  assert.equal(
    isSaslConfigKey("authProvider.1", "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"),
    true,
  );
  assert.equal(
    isSaslConfigKey("authProvider.sasl", "org.apache.zookeeper.server.auth.DigestAuthenticationProvider"),
    true,
  );
  assert.equal(isSaslConfigKey("authProvider.2", "com.example.MyProvider"), false);
  const c = configFromProperties(
    parseProperties("dataDir=/d\nauthProvider.2=com.example.MyProvider\n"),
    "/b",
  );
  assert.deepEqual(c.unknownKeys, ["authProvider.2"]);
});
