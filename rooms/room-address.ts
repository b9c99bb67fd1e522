/**
 * What the Orchestrator tells a room about itself and about who is connecting.
 * Only the Worker can reach a room (there is no public route to it), and the Orchestrator builds the
 * forwarded request from scratch, so these headers cannot come from a client.
 */
import { z } from "zod";
import type { CatchUp } from "../protocol/chat";
import { ORG_ROLES } from "../protocol/enums";
import { DECIMAL } from "../protocol/primitives";

export const chatRefSchema = z.object({ chatId: z.string().min(1), orgId: z.string().min(1) });
export type ChatRef = z.infer<typeof chatRefSchema>;

export const memberIdentitySchema = z.object({
  userId: z.string().min(1),
  name: z.string(),
  /** The member's org role, for approval policies that only admins may decide. */
  role: z.enum(ORG_ROLES).optional(),
});
export type MemberIdentity = z.infer<typeof memberIdentitySchema>;

const CHAT_HEADER = "x-parlor-chat";
const IDENTITY_HEADER = "x-parlor-identity";

export function socketUpgradeRequest(
  roomUrl: string,
  chat: ChatRef,
  identity: MemberIdentity,
  catchUp: CatchUp,
): Request {
  const url = new URL(roomUrl);
  url.search = "";
  if ("tail" in catchUp) url.searchParams.set("tail", String(catchUp.tail));
  else url.searchParams.set("after", String(catchUp.after));
  return new Request(url, {
    headers: {
      Upgrade: "websocket",
      [CHAT_HEADER]: JSON.stringify(chat),
      [IDENTITY_HEADER]: JSON.stringify(identity),
    },
  });
}

export type ForwardedSocket = { chat: ChatRef; identity: MemberIdentity; catchUp: CatchUp };

export function readForwardedSocket(request: Request): ForwardedSocket | null {
  try {
    const chat = chatRefSchema.safeParse(JSON.parse(request.headers.get(CHAT_HEADER) ?? "null"));
    const identity = memberIdentitySchema.safeParse(JSON.parse(request.headers.get(IDENTITY_HEADER) ?? "null"));
    const catchUp = readCatchUp(new URL(request.url).searchParams);
    if (!chat.success || !identity.success || !catchUp) return null;
    return { chat: chat.data, identity: identity.data, catchUp };
  } catch {
    return null;
  }
}

function readCatchUp(params: URLSearchParams): CatchUp | null {
  const tail = params.get("tail");
  const after = params.get("after") ?? "0";
  if (tail !== null) return DECIMAL.test(tail) ? { tail: Number(tail) } : null;
  return DECIMAL.test(after) ? { after: Number(after) } : null;
}
