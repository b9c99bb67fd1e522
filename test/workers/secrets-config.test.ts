import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../api/app";
import { openValue, SecretsUnavailable, sealValue, secretScope } from "../../api/db/secret-values";
import { chatWithMembers } from "./helpers";

const key = (id: string) => {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `${id}:${btoa(String.fromCharCode(...bytes))}`;
};
const withKeys = (current: string | undefined, old?: string) =>
  ({ ...env, PARLOR_SECRETS_KEY: current, PARLOR_SECRETS_OLD_KEYS: old }) as Env;

describe("the secrets key", () => {
  it("without a key every secret endpoint answers 503 unavailable, saying what to set", async () => {
    const fixture = await chatWithMembers(0);
    const ctx = { waitUntil: () => {}, passThroughOnException: () => {}, props: {} } as unknown as ExecutionContext;
    const requests: [string, string, object?][] = [
      ["GET", "/secrets"],
      ["POST", "/secrets", { name: "A", value: "v", grants: { chats: "all" } }],
      ["PATCH", "/secrets/A", { value: "w" }],
      ["DELETE", "/secrets/A"],
    ];
    for (const [method, path, body] of requests) {
      const response = await app.request(
        `/api/orgs/${fixture.orgId}${path}`,
        {
          method,
          headers: { Authorization: `Bearer ${fixture.admin.token}`, "Content-Type": "application/json" },
          body: body ? JSON.stringify(body) : undefined,
        },
        withKeys(undefined),
        ctx,
      );
      expect(response.status, `${method} ${path}`).toBe(503);
      const answer = (await response.json()) as { error: { code: string; message: string } };
      expect(answer.error.code).toBe("unavailable");
      expect(answer.error.message).toMatch(/PARLOR_SECRETS_KEY/);
    }
  });

  it("a value sealed under an old key opens once that key is among the old keys, and seals anew under the current", async () => {
    const [first, second] = [key("k1"), key("k2")];
    const scope = secretScope(crypto.randomUUID(), "GITHUB");
    const sealed = await sealValue(withKeys(first), scope, "the-value");
    expect(sealed.keyId).toBe("k1");
    expect(JSON.stringify(sealed)).not.toContain("the-value");
    await expect(openValue(withKeys(second), scope, sealed)).rejects.toBeInstanceOf(SecretsUnavailable);
    expect(await openValue(withKeys(second, `${key("k0")},${first}`), scope, sealed)).toBe("the-value");
    expect((await sealValue(withKeys(second, first), scope, "the-value")).keyId).toBe("k2");
  });

  it("a sealed value opens only for its own org and name", async () => {
    const current = key("k1");
    const orgId = crypto.randomUUID();
    const sealed = await sealValue(withKeys(current), secretScope(orgId, "GITHUB"), "the-value");
    await expect(openValue(withKeys(current), secretScope(orgId, "OTHER"), sealed)).rejects.toThrow();
    await expect(openValue(withKeys(current), secretScope(crypto.randomUUID(), "GITHUB"), sealed)).rejects.toThrow();
  });

  it("a malformed key is refused without its material in the message", async () => {
    const bad = "k9:c2hvcnQ=";
    const refusal = await sealValue(withKeys(bad), "x/Y", "v").catch((error: Error) => error);
    expect(refusal).toBeInstanceOf(SecretsUnavailable);
    expect((refusal as Error).message).toContain("k9");
    expect((refusal as Error).message).not.toContain("c2hvcnQ=");
  });
});
