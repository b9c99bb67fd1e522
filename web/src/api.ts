/**
 * The App API as the web client calls it: the typed client (`hono/client` over the app's own type, spelled out in
 * `generated/client.d.ts` by `npm run typecheck`), with a fresh session token (tokens.ts) on every call. The view types are
 * read off the client's response types, so a field renamed in protocol/ fails this project's typecheck.
 */
import { type ClientResponse, hc, type InferResponseType } from "hono/client";
import { type ErrorCode, errorBodySchema } from "../../protocol/errors";
import type { ParlorClient } from "./generated/client";
import { session, tokens } from "./tokens";

export { session } from "./tokens";

export const client = hc(location.origin, {
  // A fresh token for every call: Clerk's last about a minute.
  headers: async (): Promise<Record<string, string>> => {
    const token = await tokens.fresh();
    return token ? { Authorization: `Bearer ${token}` } : {};
  },
}) as unknown as ParlorClient;

/** A refused request, with the contract's error code (null when the body was not the contract's error shape). */
export class RequestFailed extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | null,
    message: string,
  ) {
    super(message);
  }
}

/** The body types a call's successful answers carry (a union when a route answers, say, 200 or 201). */
type Body<R> = R extends ClientResponse<infer T, number, "json"> ? T : never;

/**
 * Awaits a typed call and returns its JSON body; a non-OK answer becomes a `RequestFailed` carrying the contract's
 * `{ error: { code, message } }`. A 401 (`unauthenticated`) clears the session and signs the tab out.
 */
export async function call<R extends ClientResponse<unknown, number, "json">>(request: Promise<R>): Promise<Body<R>> {
  const response = await request;
  if (response.ok) return (await response.json()) as Body<R>;
  const parsed = errorBodySchema.safeParse(await response.json().catch(() => null));
  if (response.status === 401) session.expired();
  if (parsed.success) throw new RequestFailed(response.status, parsed.data.error.code, parsed.data.error.message);
  throw new RequestFailed(response.status, null, `request failed (${response.status})`);
}

type Api = ParlorClient["api"];
type OrgApi = Api["orgs"][":orgId"];
type ChatApi = Api["chats"][":chatId"];

export type Org = InferResponseType<Api["orgs"]["$get"], 200>["orgs"][number];
export type Chat = InferResponseType<OrgApi["chats"]["$get"], 200>["chats"][number];
export type OrgMember = InferResponseType<OrgApi["members"]["$get"], 200>["members"][number];
export type ChatAgent = InferResponseType<ChatApi["agents"]["$get"], 200>["agents"][number];
export type Artifact = InferResponseType<ChatApi["artifacts"][":artifactId"]["$get"], 200>["artifact"];

/** What the sidebar keeps of a selected org or chat: a fresh one is selected from its create answer. */
export type OrgRef = Pick<Org, "id" | "name" | "role">;
export type ChatRef = Pick<Chat, "id" | "title">;
