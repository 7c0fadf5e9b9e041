// Start-up with a bad config stops with the key named; an unknown key is only a warning.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { corralBin } from "../helpers/corral-process.js";
import { repoRoot } from "../helpers/managed-process.js";

function runWith(cfg: string): { status: number | null; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), "corral-cfg-"));
  try {
    const file = join(dir, "zoo.cfg");
    writeFileSync(file, cfg.replaceAll("$DIR", dir));
    const r = spawnSync(process.execPath, [corralBin, "server", file], {
      cwd: repoRoot,
      encoding: "utf8",
      timeout: 20_000,
    });
    return { status: r.status, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("an invalid value stops start-up naming the key", () => {
  const r = runWith("dataDir=$DIR/data\nclientPort=2181\ntickTime=fast\n");
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /tickTime/);
});

test("a missing dataDir stops start-up naming the key", () => {
  const r = runWith("clientPort=2181\n");
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /dataDir/);
});

test("a port out of range stops start-up naming the key", () => {
  const r = runWith("dataDir=$DIR/data\nclientPort=70000\n");
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /clientPort/);
});

test("an unknown option or a second file stops start-up with the usage, not a stack trace; --help prints it", () => {
  for (const args of [["--bogus"], ["a.cfg", "b.cfg"]]) {
    const r = spawnSync(process.execPath, [corralBin, "server", ...args], {
      cwd: repoRoot,
      encoding: "utf8",
      timeout: 20_000,
    });
    assert.equal(r.status, 2, args.join(" "));
    assert.match(r.stderr, /^corral server: .*\nusage: corral server/);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
  }
  const help = spawnSync(process.execPath, [corralBin, "server", "--help"], {
    cwd: repoRoot,
    encoding: "utf8",
    timeout: 20_000,
  });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^usage: corral server/);
});
