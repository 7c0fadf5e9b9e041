// The subject of an X.509 certificate as Java's X500Principal.getName() prints it (RFC 2253), which is the id
// ZooKeeper's X509AuthenticationProvider gives a client. Reads the certificate's DER; no I/O.
import { DecodeError } from "../base/errors.js";

/** Attribute types Java names in RFC 2253 output (sun.security.x509.AVAKeyword); any other prints as its OID. */
const rfc2253Keywords = new Map<string, string>([
  ["2.5.4.3", "CN"],
  ["2.5.4.6", "C"],
  ["2.5.4.7", "L"],
  ["2.5.4.8", "ST"],
  ["2.5.4.10", "O"],
  ["2.5.4.11", "OU"],
  ["2.5.4.9", "STREET"],
  ["0.9.2342.19200300.100.1.25", "DC"],
  ["0.9.2342.19200300.100.1.1", "UID"],
]);

const tag = {
  utf8String: 0x0c,
  printableString: 0x13,
  t61String: 0x14,
  ia5String: 0x16,
  generalString: 0x1b,
  bmpString: 0x1e,
  oid: 0x06,
  sequence: 0x30,
  set: 0x31,
  contextVersion: 0xa0,
} as const;

/** Characters AVA.toRFC2253String escapes with a backslash wherever they appear. */
const escapees = ',=+<>#;"\\';

interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the contents. */
  body: number;
  /** Offset just past the contents. */
  end: number;
}

function readTlv(der: Uint8Array, at: number, limit: number): Tlv {
  if (at + 2 > limit) throw new DecodeError("certificate: truncated DER");
  const t = der[at]!;
  let len = der[at + 1]!;
  let body = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || body + n > limit) throw new DecodeError("certificate: bad DER length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[body + i]!;
    body += n;
  }
  if (body + len > limit) throw new DecodeError("certificate: DER length past its container");
  return { tag: t, start: at, body, end: body + len };
}

function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.body; at < parent.end;) {
    const c = readTlv(der, at, parent.end);
    out.push(c);
    at = c.end;
  }
  return out;
}

function oidString(b: Uint8Array): string {
  if (b.length === 0) throw new DecodeError("certificate: empty OID");
  const parts: number[] = [];
  let v = 0;
  for (const byte of b) {
    v = v * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      parts.push(v);
      v = 0;
    }
  }
  const first = parts.shift()!;
  const a = first < 80 ? Math.floor(first / 40) : 2;
  return [a, first - a * 40, ...parts].join(".");
}

function hex(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

/** DerValue.getAsString for the string types Java prints as text. */
function decodeString(t: number, b: Uint8Array): string {
  if (t === tag.utf8String) return new TextDecoder("utf-8").decode(b);
  if (t === tag.bmpString) return new TextDecoder("utf-16be").decode(b);
  return new TextDecoder("latin1").decode(b);
}

/** AVA.toRFC2253String: escapees and NUL escaped, leading and trailing spaces (and CRs) escaped. */
function escapeValue(value: string): string {
  let s = "";
  for (const c of value) {
    if (escapees.includes(c)) s += "\\" + c;
    else if (c === "\u0000") s += "\\00";
    else s += c;
  }
  const chars = [...s];
  let lead = 0;
  while (lead < chars.length && (chars[lead] === " " || chars[lead] === "\r")) lead++;
  let trail = chars.length - 1;
  while (trail >= 0 && (chars[trail] === " " || chars[trail] === "\r")) trail--;
  return chars.map((c, i) => (i < lead || i > trail ? "\\" + c : c)).join("");
}

function avaString(der: Uint8Array, ava: Tlv): string {
  const [type, value] = children(der, ava);
  if (type === undefined || value === undefined || type.tag !== tag.oid)
    throw new DecodeError("certificate: bad AttributeTypeAndValue");
  const oid = oidString(der.subarray(type.body, type.end));
  const keyword = rfc2253Keywords.get(oid);
  const textual = [
    tag.utf8String,
    tag.printableString,
    tag.t61String,
    tag.ia5String,
    tag.generalString,
    tag.bmpString,
  ].includes(value.tag as 0x0c);
  if (keyword === undefined || !textual) {
    return `${keyword ?? oid}=#${hex(der.subarray(value.start, value.end))}`;
  }
  return `${keyword}=${escapeValue(decodeString(value.tag, der.subarray(value.body, value.end)))}`;
}

/** X500Principal.getName() of a DER-encoded Name: RDNs last to first, each RDN's AVAs in encoded order. */
export function rfc2253NameOf(der: Uint8Array, name: Tlv): string {
  const rdns = children(der, name).map((rdn) => {
    if (rdn.tag !== tag.set) throw new DecodeError("certificate: RDN is not a SET");
    return children(der, rdn)
      .map((ava) => avaString(der, ava))
      .join("+");
  });
  return rdns.reverse().join(",");
}

/** The subject DN of a DER certificate, as X500Principal.getName() prints it. */
export function certificateSubjectName(der: Uint8Array): string {
  const cert = readTlv(der, 0, der.length);
  if (cert.tag !== tag.sequence) throw new DecodeError("certificate: not a SEQUENCE");
  const tbs = children(der, cert)[0];
  if (tbs === undefined || tbs.tag !== tag.sequence) throw new DecodeError("certificate: no TBSCertificate");
  const fields = children(der, tbs);
  // version [0] (optional), serialNumber, signature, issuer, validity, subject
  const skip = fields[0]?.tag === tag.contextVersion ? 1 : 0;
  const subject = fields[skip + 4];
  if (subject === undefined || subject.tag !== tag.sequence) throw new DecodeError("certificate: no subject");
  return rfc2253NameOf(der, subject);
}
