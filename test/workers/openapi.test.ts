import { describe, expect, it } from "vitest";
import { app } from "../../api/app";
import { call } from "./helpers";

type Document = {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, unknown>; "x-development-only"?: boolean }>>;
  components: { schemas: Record<string, unknown> };
};

async function openApiDocument(): Promise<Document> {
  const response = await call("/api/openapi.json");
  expect(response.status).toBe(200);
  return (await response.json()) as Document;
}

/** Hono's registered routes as `METHOD /path/{param}`, without middleware. */
function registeredRoutes(): string[] {
  const seen = new Set<string>();
  for (const { method, path } of app.routes) {
    if (method === "ALL" && !path.includes("/echo/")) continue;
    const templated = path.replace(/:([^/]+)/g, "{$1}").replace(/\/\*$/, "/{path}");
    const methods = method === "ALL" ? ["GET", "POST", "PUT", "PATCH", "DELETE"] : [method];
    for (const m of methods) seen.add(`${m} ${templated}`);
  }
  return [...seen].sort();
}

describe("the OpenAPI document", () => {
  it("is served as OpenAPI 3.1 and lists every route the app answers, and nothing else", async () => {
    const document = await openApiDocument();
    expect(document.openapi).toBe("3.1.0");
    const documented = Object.entries(document.paths)
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    expect(documented).toEqual(registeredRoutes());
  });

  it("declares the two socket upgrades with a 101 answer, and the room events and client frames as schemas", async () => {
    const document = await openApiDocument();
    expect(document.paths["/api/chats/{chatId}/ws"].get.responses["101"]).toBeDefined();
    expect(document.paths["/api/chats/{chatId}/progress"].get.responses["101"]).toBeDefined();
    expect(document.components.schemas.RoomEvent).toBeDefined();
    expect(document.components.schemas.ClientFrame).toBeDefined();
  });

  it("tags the development-only endpoints", async () => {
    const document = await openApiDocument();
    expect(document.paths["/api/dev/token"].post["x-development-only"]).toBe(true);
    expect(document.paths["/api/dev/echo/{path}"].post["x-development-only"]).toBe(true);
    expect(document.paths["/api/orgs"].post["x-development-only"]).toBeUndefined();
  });

  it("declares every error answer with the contract's error body", async () => {
    const document = await openApiDocument();
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const statuses = Object.keys(operation.responses);
        expect(
          statuses.some((s) => s.startsWith("2") || s === "101"),
          `${method} ${path} has a success`,
        ).toBe(true);
        expect(statuses, `${method} ${path} declares 500`).toContain("500");
      }
    }
  });
});
