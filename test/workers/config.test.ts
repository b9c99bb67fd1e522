import { describe, expect, it } from "vitest";
import { client } from "./helpers";

describe("client configuration", () => {
  it("GET /api/config is public and says how to sign in here: development sign-in, no Clerk key", async () => {
    const response = await client().api.config.$get();
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ clerkPublishableKey: null, devSignIn: true });
  });
});
