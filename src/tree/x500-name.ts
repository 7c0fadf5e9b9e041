// Whether a string parses as an X.500 distinguished name the way `new X500Principal(name)` accepts it
// (RFC 1779 / 2253 syntax, Java's keyword table): X509AuthenticationProvider.isValid for "x509" ACL ids.
// Pure: no I/O, no clock, no randomness.

/** sun.security.x509.AVAKeyword's names, matched without regard to case. */
const keywords = new Set([
  "CN",
  "C",
  "L",
  "S",
  "ST",
  "O",
  "OU",
  "T",
  "IP",
  "STREET",
  "DC",
  "DNQUALIFIER",
  "DNQ",
  "SURNAME",
  "GIVENNAME",
  "INITIALS",
  "GENERATION",
  "EMAIL",
  "EMAILADDRESS",
  "UID",
  "SERIALNUMBER",
]);

function validKeyword(k: string): boolean {
  if (keywords.has(k.toUpperCase())) return true;
  return /^(OID\.)?[0-2](\.\d+)+$/i.test(k);
}

/** X500Principal(String) without an exception: an empty name is valid. */
export function isValidX500Name(name: string): boolean {
  let i = 0;
  const n = name.length;
  const skipSpaces = (): void => {
    while (i < n && name[i] === " ") i++;
  };
  skipSpaces();
  if (i === n) return true;
  for (;;) {
    skipSpaces();
    const eq = name.indexOf("=", i);
    if (eq < 0) return false;
    if (!validKeyword(name.slice(i, eq).trim())) return false;
    i = eq + 1;
    skipSpaces();
    if (name[i] === '"') {
      i++;
      while (i < n && name[i] !== '"') i += name[i] === "\\" ? 2 : 1;
      if (i >= n) return false;
      i++;
      skipSpaces();
    } else if (name[i] === "#") {
      const m = /^#([0-9a-fA-F]{2})+/.exec(name.slice(i));
      if (m === null) return false;
      i += m[0].length;
      skipSpaces();
    } else {
      while (i < n && !",;+".includes(name[i]!)) {
        if (name[i] === "\\") {
          if (i + 1 >= n) return false;
          i += 2;
        } else if (name[i] === '"' || name[i] === "<" || name[i] === ">") {
          return false;
        } else i++;
      }
    }
    if (i === n) return true;
    if (!",;+".includes(name[i]!)) return false;
    i++;
  }
}
