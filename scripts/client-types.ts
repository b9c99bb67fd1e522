/**
 * Writes `web/src/generated/client.d.ts`: the App API's typed-client type, spelled out by tsc's declaration emit from
 * `api/client.ts`. The web project imports it, so a field renamed in protocol/ but not in web/ fails its typecheck.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { run } from "./run.ts";

const root = resolve(import.meta.dirname, "..");
const scratch = mkdtempSync(join(tmpdir(), "parlor-client-types-"));
try {
  await run("tsc", ["-p", "tsconfig.client.json", "--outDir", scratch], { cwd: root });
  mkdirSync(join(root, "web/src/generated"), { recursive: true });
  copyFileSync(join(scratch, "api/client.d.ts"), join(root, "web/src/generated/client.d.ts"));
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
