/**
 * docs/api.md and the OpenAPI document agree: every endpoint the document lists is named on the page, and every
 * endpoint the page names is in the document. The page names an endpoint as `METHOD /api/path` with `:name` for a
 * path parameter (the document's `{name}`); `GET|POST /api/…` names one endpoint per method. Also checked: every
 * error code with its status, and every event and frame type, appear on the page.
 */
import { describe, expect, it } from "vitest";
import apiDoc from "../../docs/api.md?raw";
import { ERROR_STATUS } from "../../protocol/enums";
import { call } from "./helpers";

type Schema = {
  oneOf?: Schema[];
  anyOf?: Schema[];
  properties?: Record<string, { const?: unknown; enum?: unknown[] }>;
};
type Document = {
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, Schema> };
};

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
const METHOD = METHODS.join("|");
/**
 * A method (or several joined by `|`, escaped as `\|` inside a table) and a path under /api. The path stops at
 * anything that cannot be part of one: a query string, a backtick, a space, punctuation after it.
 */
const ENDPOINT = new RegExp(`(?<![\\w|])((?:${METHOD})(?:\\\\?\\|(?:${METHOD}))*)\\s+(/api(?:/[\\w.:{}*-]*)*)`, "g");

/** Every `METHOD /api/path` the page names, as `METHOD /api/path/{param}`. */
function endpointsNamedIn(markdown: string): Set<string> {
  const named = new Set<string>();
  for (const [, methods, rawPath] of markdown.matchAll(ENDPOINT)) {
    const path = rawPath.replace(/[.:]+$/, "").replace(/\/:(\w+)/g, "/{$1}");
    for (const method of methods.split(/\\?\|/)) named.add(`${method} ${path}`);
  }
  return named;
}

async function openApiDocument(): Promise<Document> {
  const response = await call("/api/openapi.json");
  expect(response.status).toBe(200);
  return (await response.json()) as Document;
}

function documentedEndpoints(document: Document): Set<string> {
  const endpoints = new Set<string>();
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const method of Object.keys(operations)) {
      if (METHODS.includes(method.toUpperCase())) endpoints.add(`${method.toUpperCase()} ${path}`);
    }
  }
  return endpoints;
}

/** The `type` constants of a union schema's members: the event or frame types it holds. */
function unionTypes(schema: Schema): string[] {
  const members = schema.oneOf ?? schema.anyOf ?? [];
  return members.flatMap((member) => {
    const type = member.properties?.type;
    if (type?.const !== undefined) return [String(type.const)];
    return (type?.enum ?? []).map(String);
  });
}

function missing(expected: Iterable<string>, present: Set<string>): string[] {
  return [...expected].filter((item) => !present.has(item)).sort();
}

describe("docs/api.md", () => {
  it("names the endpoints in the form the test reads", () => {
    expect([...endpointsNamedIn("`GET /api/chats/:chatId/messages?after=SEQ`, and GET /api/health.")]).toEqual([
      "GET /api/chats/{chatId}/messages",
      "GET /api/health",
    ]);
    expect([...endpointsNamedIn("| `GET\\|POST /api/orgs/:orgId/members` |")]).toEqual([
      "GET /api/orgs/{orgId}/members",
      "POST /api/orgs/{orgId}/members",
    ]);
  });

  it("names every endpoint of the OpenAPI document", async () => {
    const documented = documentedEndpoints(await openApiDocument());
    const unnamed = missing(documented, endpointsNamedIn(apiDoc));
    expect(
      unnamed,
      `endpoints in /api/openapi.json that docs/api.md does not name:\n  ${unnamed.join("\n  ")}\n`,
    ).toEqual([]);
  });

  it("names no endpoint the OpenAPI document lacks", async () => {
    const documented = documentedEndpoints(await openApiDocument());
    const named = endpointsNamedIn(apiDoc);
    expect(named.size).toBeGreaterThan(0);
    const unknown = missing(named, documented);
    expect(unknown, `endpoints docs/api.md names that /api/openapi.json lacks:\n  ${unknown.join("\n  ")}\n`).toEqual(
      [],
    );
  });

  it("lists every error code with its status", () => {
    const rows = apiDoc.split("\n").filter((line) => line.startsWith("|"));
    const absent = Object.entries(ERROR_STATUS)
      .filter(
        ([code, status]) =>
          !rows.some((row) => row.includes(`\`${code}\``) && new RegExp(`\\|\\s*${status}\\s*\\|`).test(row)),
      )
      .map(([code, status]) => `${status} ${code}`);
    expect(absent, `error codes missing from docs/api.md's error table:\n  ${absent.join("\n  ")}\n`).toEqual([]);
  });

  it("names every room event and client frame type of the document", async () => {
    const { schemas } = (await openApiDocument()).components;
    const events = unionTypes(schemas.RoomEvent);
    const frames = unionTypes(schemas.ClientFrame);
    expect(events.length).toBeGreaterThan(5);
    expect(frames.length).toBeGreaterThan(1);
    const absent = [
      ...events.filter((type) => !apiDoc.includes(`\`${type}\``)).map((type) => `event ${type}`),
      ...frames.filter((type) => !apiDoc.includes(`"type": "${type}"`)).map((type) => `frame ${type}`),
    ];
    expect(absent, `types docs/api.md does not name:\n  ${absent.join("\n  ")}\n`).toEqual([]);
  });
});
