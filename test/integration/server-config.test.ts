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
