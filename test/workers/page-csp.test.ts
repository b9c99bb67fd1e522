import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { clerkFrontendApiOrigin, strictPolicy } from "../../api/page-csp";
import worker from "../../api/worker";

const keyFor = (host: string, kind = "test") => `pk_${kind}_${btoa(`${host}$`)}`;

/** The page as a browser gets it, from the Worker run with `CLERK_PUBLISHABLE_KEY` set to `key`. */
async function pageWith(key: string | undefined, path = "/"): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(
    new Request(`http://localhost${path}`),
    { ...env, CLERK_PUBLISHABLE_KEY: key },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

const directives = (policy: string) =>
  new Map(
    policy.split(";").map((directive) => {
      const [name, ...sources] = directive.trim().split(/\s+/);
      return [name, sources] as const;
    }),
  );

const httpsSources = (policy: string) =>
  new Set([...directives(policy).values()].flat().filter((source) => source.startsWith("https://")));

describe("the page's Content-Security-Policy", () => {
  it("without Clerk, the page and a client route get the strict policy", async () => {
    for (const path of ["/", "/chats/some-chat"]) {
      const response = await exports.default.fetch(new Request(`http://localhost${path}`));
      expect(response.status).toBe(200);
      expect(response.headers.get("Content-Type")).toContain("text/html");
      expect(response.headers.get("Content-Security-Policy")).toBe(strictPolicy);
      expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
    }
    const policy = directives(strictPolicy);
    expect(policy.get("img-src")).toEqual(["'self'", "data:"]);
    expect(policy.get("script-src")).toEqual(["'self'"]);
    expect(policy.get("connect-src")).toEqual(["'self'"]);
    expect(policy.get("frame-ancestors")).toEqual(["'none'"]);
  });

  it("the files served without the Worker carry the same strict policy (web/public/_headers)", async () => {
    const html = await (await exports.default.fetch(new Request("http://localhost/"))).text();
    const script = html.match(/src="(\/assets\/[^"]+\.js)"/)?.[1];
    expect(script).toBeDefined();
    const asset = await exports.default.fetch(new Request(`http://localhost${script}`));
    expect(asset.status).toBe(200);
    expect(asset.headers.get("Content-Security-Policy")).toBe(strictPolicy);
  });

  it("with a publishable key, the page names exactly the Clerk origin the key encodes", async () => {
    const response = await pageWith(keyFor("clerk.example.test"));
    expect(response.status).toBe(200);
    expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
    const policy = response.headers.get("Content-Security-Policy") ?? "";
    const parsed = directives(policy);
    expect(parsed.get("script-src")).toEqual([
      "'self'",
      "https://clerk.example.test",
      "https://challenges.cloudflare.com",
    ]);
    expect(parsed.get("connect-src")).toEqual(["'self'", "https://clerk.example.test"]);
    expect(parsed.get("img-src")).toEqual(["'self'", "data:", "https://img.clerk.com"]);
    expect(parsed.get("worker-src")).toEqual(["'self'", "blob:"]);
    expect(parsed.get("frame-src")).toEqual(["https://challenges.cloudflare.com"]);
    expect(parsed.get("style-src")).toEqual(["'self'", "'unsafe-inline'"]);
    expect(parsed.get("object-src")).toEqual(["'none'"]);
    expect(parsed.get("frame-ancestors")).toEqual(["'none'"]);
    expect(httpsSources(policy)).toEqual(
      new Set(["https://clerk.example.test", "https://challenges.cloudflare.com", "https://img.clerk.com"]),
    );
    const live = (await pageWith(keyFor("clerk.parlor.example", "live"))).headers.get("Content-Security-Policy");
    expect(directives(live ?? "").get("connect-src")).toEqual(["'self'", "https://clerk.parlor.example"]);
  });

  it("a publishable key that does not encode a plain host keeps the strict policy", async () => {
    for (const key of [
      keyFor("evil.test; script-src *"),
      `pk_test_${btoa("clerk.example.test")}`,
      keyFor("clerk.example.test", "prod"),
      "pk_test_%%%",
      keyFor("*.example.test"),
    ]) {
      expect((await pageWith(key)).headers.get("Content-Security-Policy")).toBe(strictPolicy);
    }
  });

  it("the API is still the API", async () => {
    const response = await pageWith(keyFor("clerk.example.test"), "/api/config");
    expect(await response.json()).toEqual({ clerkPublishableKey: keyFor("clerk.example.test"), devSignIn: true });
    expect(response.headers.get("Content-Security-Policy")).toBeNull();
  });
});

describe("clerkFrontendApiOrigin", () => {
  it("reads the Frontend API host from test and live keys", () => {
    expect(clerkFrontendApiOrigin(keyFor("clerk.example.test"))).toBe("https://clerk.example.test");
    expect(clerkFrontendApiOrigin(keyFor("Wise-Owl-12.clerk.accounts.dev"))).toBe(
      "https://wise-owl-12.clerk.accounts.dev",
    );
    expect(clerkFrontendApiOrigin(keyFor("clerk.example.com", "live"))).toBe("https://clerk.example.com");
  });

  it("refuses keys without the trailing $, of another kind, or not base64", () => {
    expect(clerkFrontendApiOrigin(`pk_live_${btoa("clerk.example.com")}`)).toBeNull();
    expect(clerkFrontendApiOrigin(`sk_live_${btoa("clerk.example.com$")}`)).toBeNull();
    expect(clerkFrontendApiOrigin("pk_test_!!")).toBeNull();
    expect(clerkFrontendApiOrigin(keyFor("example.test/path"))).toBeNull();
  });
});
