// TLS settings from zoo.cfg (errors name the key), Java cipher names, the x509 id of a certificate as
// X500Principal.getName() prints it, and the x509 ACL scheme (validity, matching, "auth" expansion).
import { test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { configFromProperties, parseProperties } from "../../src/server/config.js";
import { openSslCipherName } from "../../src/server/tls-config.js";
import { certificateSubjectName } from "../../src/server/x509-name.js";
import { checkACL, fixupACL, isValidId } from "../../src/tree/acl.js";
import { Code } from "../../src/protocol/error-codes.js";
import { ConfigError } from "../../src/base/errors.js";

const parse = (text: string) => configFromProperties(parseProperties(text), "/base");
const secure = "dataDir=/d\nsecureClientPort=2281\nssl.keyStore.location=keys/server.pem\n";

test("secureClientPort with ZooKeeper's ssl.* keys: defaults as X509Util's, relative files against the config dir", () => {
  const c = parse(secure + "ssl.trustStore.location=/etc/ca.pem\nserverCnxnFactory=x\nclient.secure=true\n");
  assert.equal(c.secureClientPort, 2281);
  assert.equal(c.secureClientPortAddress, "0.0.0.0");
  assert.equal(c.clientPortEnabled, false, "only TLS when clientPort is absent");
  assert.deepEqual(c.unknownKeys, []);
  const t = c.clientTls!;
  assert.equal(t.keyStoreLocation, "/base/keys/server.pem");
  assert.equal(t.keyStoreType, "PEM");
  assert.equal(t.trustStoreLocation, "/etc/ca.pem");
  assert.equal(t.clientAuth, "need");
  assert.equal(t.minVersion, "TLSv1.2");
  assert.equal(t.maxVersion, "TLSv1.2");
  assert.equal(t.reloadCertFiles, false);
  assert.equal(c.quorumTls, undefined);
  const both = parse(secure + "clientPort=2181\nssl.enabledProtocols=TLSv1.3,TLSv1.2\nssl.clientAuth=WANT\n");
  assert.equal(both.clientPortEnabled, true);
  assert.equal(both.clientTls!.minVersion, "TLSv1.2");
  assert.equal(both.clientTls!.maxVersion, "TLSv1.3");
  assert.equal(both.clientTls!.clientAuth, "want");
  assert.equal(parse(secure + "ssl.keyStore.type=pkcs12\n").clientTls!.keyStoreType, "PKCS12");
  assert.equal(parse("dataDir=/d\n").clientTls, undefined);
  assert.equal(parse("dataDir=/d\n").clientPortEnabled, true);
});

test("sslQuorum=true reads the ssl.quorum.* keys; portUnification is accepted with a warning", () => {
  const c = parse(
    "dataDir=/d\nsslQuorum=true\nsslQuorumReloadCertFiles=true\nportUnification=true\n" +
      "ssl.quorum.keyStore.location=/q/keys.p12\nssl.quorum.keyStore.password=pw\nssl.quorum.hostnameVerification=false\n",
  );
  assert.equal(c.quorumTls!.prefix, "ssl.quorum.");
  assert.equal(c.quorumTls!.keyStoreType, "PKCS12");
  assert.equal(c.quorumTls!.keyStorePassword, "pw");
  assert.equal(c.quorumTls!.hostnameVerification, false);
  assert.equal(c.quorumTls!.reloadCertFiles, true);
  assert.equal(c.tlsWarnings.length, 1);
  assert.match(c.tlsWarnings[0]!, /portUnification/);
});

test("a bad TLS setting throws ConfigError naming the key", () => {
  for (const [text, key] of [
    ["dataDir=/d\nsecureClientPort=2281\n", "ssl.keyStore.location"],
    ["dataDir=/d\nsecureClientPort=x\n", "secureClientPort"],
    ["dataDir=/d\nsecureClientPortAddress=127.0.0.1\n", "secureClientPortAddress"],
    ["dataDir=/d\nsslQuorum=true\n", "ssl.quorum.keyStore.location"],
    ["dataDir=/d\nsslQuorum=perhaps\n", "sslQuorum"],
    [secure + "ssl.clientAuth=sometimes\n", "ssl.clientAuth"],
    [secure + "ssl.keyStore.type=JKS\n", "ssl.keyStore.type"],
    ["dataDir=/d\nsecureClientPort=1\nssl.keyStore.location=/k.jks\n", "ssl.keyStore.type"],
    ["dataDir=/d\nsecureClientPort=1\nssl.keyStore.location=/k.key\n", "ssl.keyStore.type"],
    [secure + "ssl.trustStore.location=/t.p12\n", "ssl.trustStore.type"],
    [secure + "ssl.protocol=SSLv3\n", "ssl.protocol"],
    [secure + "ssl.enabledProtocols=TLSv1.2,TLSv9\n", "ssl.enabledProtocols"],
    [secure + "ssl.ciphersuites=TLS_NOT_A_CIPHER\n", "ssl.ciphersuites"],
    [secure + "ssl.ocsp=true\n", "ssl.ocsp"],
    [secure + "client.certReload=often\n", "client.certReload"],
  ] as const) {
    assert.throws(
      () => parse(text),
      (e: unknown) => e instanceof ConfigError && e.key === key,
      `expected ConfigError(${key}) for ${JSON.stringify(text)}`,
    );
  }
});

test("ssl.ciphersuites takes Java's names and hands OpenSSL's to node:tls", () => {
  assert.equal(openSslCipherName("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"), "ECDHE-RSA-AES128-GCM-SHA256");
  assert.equal(openSslCipherName("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"), "ECDHE-ECDSA-AES256-GCM-SHA384");
  assert.equal(openSslCipherName("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"), "ECDHE-RSA-AES128-SHA256");
  assert.equal(openSslCipherName("TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"), "ECDHE-ECDSA-AES256-SHA");
  assert.equal(openSslCipherName("TLS_RSA_WITH_AES_128_GCM_SHA256"), "AES128-GCM-SHA256");
  assert.equal(
    openSslCipherName("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
    "ECDHE-RSA-CHACHA20-POLY1305",
  );
  assert.equal(openSslCipherName("TLS_AES_128_GCM_SHA256"), "TLS_AES_128_GCM_SHA256");
  assert.equal(openSslCipherName("TLS_NOT_A_CIPHER"), undefined);
  const c = parse(
    secure +
      "ssl.ciphersuites=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\n",
  );
  assert.equal(c.clientTls!.ciphers, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384");
});

// Certificates made with openssl; the expected names are what Java 17's X500Principal.getName() printed for them.
const certs: Array<[string, string]> = [
  [
    `-----BEGIN CERTIFICATE-----
MIIBfjCCASQCFDxBj8RpPtqVIs5fMT+KjyApF0FwMAoGCCqGSM49BAMCMBkxFzAV
BgNVBAMMDkNvcnJhbCBUZXN0IENBMB4XDTI2MTEyNjEwMTMxNFoXDTI2MTEyODEw
MTMxNFowajELMAkGA1UEBhMCVVMxFTATBgNVBAoMDENvcnJhbCwgSW5jLjEZMAoG
A1UECwwDVHdvMAsGA1UECwwEVGVzdDETMBEGA1UEAwwKY2xpZW50IG9uZTEUMBIG
CSqGSIb3DQEJARYFYUBiLmMwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATyWCeq
Qx+9t4N/h1bnXxuC0aIO+ZETvj7wiaArSUIJsXk7X/Q1kxjXdPMp4oUc9ci1vNQI
GPL9kV/o6diw4NqaMAoGCCqGSM49BAMCA0gAMEUCIC773QGf8DKQRU5jwVINibdH
u+i6RbT5CGq5yPsPhj/LAiEAxCK1vsjEyckmlm8LbmAAalOH6BbRIOZJI5aKECbm
4Q0=
-----END CERTIFICATE-----`,
    "1.2.840.113549.1.9.1=#16056140622e63,CN=client one,OU=Two+OU=Test,O=Corral\\, Inc.,C=US",
  ],
  [
    `-----BEGIN CERTIFICATE-----
MIICfTCCAiOgAwIBAgIUbmWrcYtmiOBChCUcUEjDhjRtIdEwCgYIKoZIzj0EAwIw
gZMxEzARBgoJkiaJk/IsZAEZFgNvcmcxFjAUBgoJkiaJk/IsZAEZFgZjb3JyYWwx
IDAeBgNVBAoMF0FjbWU9MSAjMiA8Mz4gOzQgIjUiIFw2MRIwEAYDVQQLDAkgcGFk
ZGVkICAxDjAMBgNVBAMMBSNoYXNoMQswCQYDVQQFEwI0MjERMA8GA1UEAwwIWm/D
qyDinJMwHhcNMjYxMTI2MTAxNDM3WhcNMzYxMTIzMTAxNDM3WjCBkzETMBEGCgmS
JomT8ixkARkWA29yZzEWMBQGCgmSJomT8ixkARkWBmNvcnJhbDEgMB4GA1UECgwX
QWNtZT0xICMyIDwzPiA7NCAiNSIgXDYxEjAQBgNVBAsMCSBwYWRkZWQgIDEOMAwG
A1UEAwwFI2hhc2gxCzAJBgNVBAUTAjQyMREwDwYDVQQDDAhab8OrIOKckzBZMBMG
ByqGSM49AgEGCCqGSM49AwEHA0IABAjjp+IhsP4UyCrWxqqmpvJrkhCoO0iGwQRt
c21m1XO5x1FR6pR7oXOnYPjf1RBQeQJCWsVcea4nfCHi+3dFmMajUzBRMB0GA1Ud
DgQWBBQMAR8G8AQ54yr8pcpJeqCFn3wvMjAfBgNVHSMEGDAWgBQMAR8G8AQ54yr8
pcpJeqCFn3wvMjAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQC5
GFEHE7Qt/qHwQ5CHi2r0Gl3kC1rFgmj7L/dqwCNTwQIgHoPuxZIGgL0eU8BDDBPf
5/mRTi7DpdAEnsTxF6RfjNo=
-----END CERTIFICATE-----`,
    'CN=Zo\u00eb \u2713,2.5.4.5=#13023432,CN=\\#hash,OU=\\ padded\\ \\ ,O=Acme\\=1 \\#2 \\<3\\> \\;4 \\"5\\" \\\\6,DC=corral,DC=org',
  ],
  [
    `-----BEGIN CERTIFICATE-----
MIICDjCCAbWgAwIBAgIUW8qWLMYu/wmC8OdgCWHWggieGEQwCgYIKoZIzj0EAwIw
XTESMBAGCgmSJomT8ixkAQEMAnUxMQ0wCwYDVQQHDARUb3duMQ4wDAYDVQQIDAVT
dGF0ZTENMAsGA1UEDAwEQm9zczEMMAoGA1UEAwwDYStiMQswCQYDVQQDDAIgIDAe
Fw0yNjExMjYxMDE0NDNaFw0zNjExMjMxMDE0NDNaMF0xEjAQBgoJkiaJk/IsZAEB
DAJ1MTENMAsGA1UEBwwEVG93bjEOMAwGA1UECAwFU3RhdGUxDTALBgNVBAwMBEJv
c3MxDDAKBgNVBAMMA2ErYjELMAkGA1UEAwwCICAwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAATPJmE8Vzcg9x++1FNX6sorlZqjXQ3jqQH9/JJNQQimYaaWZRZ0Pes4
90QZicWwqHmYngyI6acxsBql86yPZNfDo1MwUTAdBgNVHQ4EFgQUYe2MarYmCNJi
tc9gtWjCSAueVuUwHwYDVR0jBBgwFoAUYe2MarYmCNJitc9gtWjCSAueVuUwDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiBnLqzelWGSZwK4zkG6uQHF
LSFEa5h6X9HDpz9G+1+qZwIgWqHgMKUIxAluxwGOKN0zUAQZUOdIdW77VDJtDcLH
Mks=
-----END CERTIFICATE-----`,
    "CN=\\ \\ ,CN=a\\+b,2.5.4.12=#0c04426f7373,ST=State,L=Town,UID=u1",
  ],
];

test("the x509 id is the subject DN as X500Principal.getName() prints it (RFC 2253, Java's escapes and keywords)", () => {
  for (const [pem, expected] of certs) {
    assert.equal(certificateSubjectName(new Uint8Array(new X509Certificate(pem).raw)), expected);
  }
});

test("x509 ACL ids must parse as X500Principal names; they match the certificate's DN exactly", () => {
  // Vectors checked against new X500Principal(name) on Java 17.
  for (const ok of [
    "CN=a",
    "",
    "cn=a,o=b",
    'CN="a,b"',
    "2.5.4.3=x",
    "OID.2.5.4.3=x",
    "CN=#0c0161",
    "CN=",
    "CN=a+OU=b",
    "CN=a;O=b",
    " CN = a , O = b ",
    "CN=a\\,b",
    "EMAILADDRESS=x@y",
  ])
    assert.equal(isValidId("x509", ok), true, ok);
  for (const bad of ["foo", "CN", "XX=a", "CN=a<b", "CN=a,", "CN=a\\", 'CN=a"b', "CN=#zz"])
    assert.equal(isValidId("x509", bad), false, bad);
  const dn = "CN=alice,O=Corral Test,C=US";
  const acl = [{ perms: 1, id: { scheme: "x509", id: dn } }];
  assert.equal(checkACL(acl, 1, [{ scheme: "x509", id: dn }]), Code.ok);
  assert.equal(checkACL(acl, 1, [{ scheme: "x509", id: "CN=bob,O=Corral Test,C=US" }]), Code.noAuth);
  assert.equal(checkACL(acl, 2, [{ scheme: "x509", id: dn }]), Code.noAuth);
  const fixed = fixupACL(
    [{ perms: 31, id: { scheme: "auth", id: "" } }],
    [
      { scheme: "ip", id: "127.0.0.1" },
      { scheme: "x509", id: dn },
    ],
  );
  assert.deepEqual(fixed, { err: Code.ok, acl: [{ perms: 31, id: { scheme: "x509", id: dn } }] });
});
