// Runs the test suites in order, cheapest first: unit, simulation, integration; or one named suite.
// Usage: node scripts/run-tests.js [unit|sim|integration|interop]...
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const suites = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ["unit", "sim", "integration"];

function findTests(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith(".test.js")) out.push(p);
  }
  return out;
}

const files = suites.flatMap((s) => findTests(join("dist", "test", s)));
if (files.length === 0) {
  console.error(`no test files found for suites: ${suites.join(", ")}`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ["--test", "--test-concurrency=1", ...files], {
  stdio: "inherit",
});
process.exit(result.status ?? 1);
