// Test certificates made at test time with the `openssl` command: CAs, server and client certificates (EC P-256,
// valid two days), PEM key stores (key + chain in one file) and PKCS#12 stores. Test helper.
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const openssl = "/usr/bin/openssl";

/** Why certificates cannot be made here, or undefined. */
export function opensslMissing(): string | undefined {
  if (existsSync(openssl)) return undefined;
  const why = `${openssl} is missing (apt-get install openssl)`;
  // CI installs it (.ci/run): there a missing openssl fails the TLS tests instead of skipping them.
  if (process.env.CI === "true") throw new Error(why);
  return why;
}

export interface Issued {
  /** PEM files. */
  readonly key: string;
  readonly cert: string;
  /** key + certificate in one file: a ZooKeeper PEM key store. */
  readonly keyStore: string;
  /** The certificate's SHA-256 fingerprint as node:tls reports it (AA:BB:...). */
  readonly fingerprint256: string;
}

function run(args: string[], cwd: string): void {
  execFileSync(openssl, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
}

const ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

function fingerprint(file: string): string {
  return new X509Certificate(readFileSync(file)).fingerprint256;
}

function keyStoreOf(dir: string, name: string, key: string, cert: string): string {
  const file = join(dir, `${name}.pem`);
  writeFileSync(file, readFileSync(key, "utf8") + readFileSync(cert, "utf8"));
  return file;
}

/** A self-signed CA named by `subject` (openssl -subj syntax). */
export function makeCa(dir: string, name: string, subject: string): Issued {
  const key = join(dir, `${name}-key.pem`);
  const cert = join(dir, `${name}-cert.pem`);
  run(["req", "-x509", ...ecKey, "-keyout", key, "-out", cert, "-days", "2", "-subj", subject], dir);
  return { key, cert, keyStore: keyStoreOf(dir, name, key, cert), fingerprint256: fingerprint(cert) };
}

/**
 * A certificate for `subject` signed by `ca`; `san` (e.g. "IP:127.0.0.1,DNS:localhost") names the hosts it is
 * good for. Written under `name`.*; an existing set is replaced by rename, so a reader never sees half a file.
 */
export function issue(dir: string, ca: Issued, name: string, subject: string, san?: string): Issued {
  const tmp = `${name}.new`;
  const csr = join(dir, `${tmp}.csr`);
  const key = join(dir, `${name}-key.pem`);
  const cert = join(dir, `${name}-cert.pem`);
  run(["req", ...ecKey, "-keyout", join(dir, `${tmp}.key`), "-out", csr, "-subj", subject], dir);
  const ext = join(dir, `${tmp}.ext`);
  writeFileSync(ext, san === undefined ? "basicConstraints=CA:FALSE\n" : `subjectAltName=${san}\n`);
  run(
    [
      "x509",
      "-req",
      "-in",
      csr,
      "-CA",
      ca.cert,
      "-CAkey",
      ca.key,
      "-CAcreateserial",
      "-out",
      join(dir, `${tmp}.crt`),
      "-days",
      "2",
      "-extfile",
      ext,
    ],
    dir,
  );
  const storeTmp = join(dir, `${tmp}.pem`);
  writeFileSync(
    storeTmp,
    readFileSync(join(dir, `${tmp}.key`), "utf8") + readFileSync(join(dir, `${tmp}.crt`), "utf8"),
  );
  renameSync(join(dir, `${tmp}.key`), key);
  renameSync(join(dir, `${tmp}.crt`), cert);
  const keyStore = join(dir, `${name}.pem`);
  renameSync(storeTmp, keyStore);
  return { key, cert, keyStore, fingerprint256: fingerprint(cert) };
}

/** A PKCS#12 key store (key, certificate, and `ca` in the chain) protected by `password`. */
export function pkcs12(dir: string, name: string, issued: Issued, password: string, ca?: Issued): string {
  const file = join(dir, `${name}.p12`);
  const args = ["pkcs12", "-export", "-inkey", issued.key, "-in", issued.cert, "-out", file];
  if (ca !== undefined) args.push("-certfile", ca.cert);
  run([...args, "-passout", `pass:${password}`], dir);
  return file;
}
