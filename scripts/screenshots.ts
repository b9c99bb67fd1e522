/**
 * `npm run screenshots`: refreshes docs/screenshots/ by running the browser tests that take them, with their
 * screenshot folder pointed there (run alone, they write to the ignored test-screenshots/). Needs Chromium at
 * /usr/bin/chromium and what `npm test` needs (DATABASE_URL, or the embedded PostgreSQL).
 */
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { run } from "./run.ts";

const root = resolve(import.meta.dirname, "..");
const out = join(root, "docs/screenshots");
/** The browser tests that write screenshots to `PARLOR_SCREENSHOTS_DIR`. */
const TESTS = ["test/e2e/browser-reading.test.ts", "test/e2e/browser-a11y.test.ts", "test/e2e/browser-cards.test.ts"];

if (!existsSync("/usr/bin/chromium")) {
  console.error("[screenshots] no browser at /usr/bin/chromium (apt-get install -y chromium)");
  process.exit(1);
}
mkdirSync(out, { recursive: true });
await run(process.execPath, [join(root, "scripts/test.ts"), "--project", "e2e", ...TESTS], {
  cwd: root,
  env: { ...process.env, PARLOR_SCREENSHOTS_DIR: out, PARLOR_REQUIRE_BROWSER: "1" },
});
console.log(`[screenshots] written to ${out}`);
