/** Approvals of tool calls and the artifacts tool calls produced, both kept by the chat's room. */
import { zValidator } from "@hono/zod-validator";
import { Hono } from "hono";
import { decideApprovalBody, listApprovalsQuery } from "../../protocol/agents";
import { requireChatMember } from "../access";
import type { AppEnv } from "../context";
import { notFound } from "../errors";
import { decideInRoom, listRoomApprovals, readRoomArtifact } from "../orchestrator";
import { validationHook } from "../validation";

export const approvalRoutes = new Hono<AppEnv>()
  .get("/:chatId/approvals", zValidator("query", listApprovalsQuery, validationHook), async function listApprovals(c) {
    const { chat } = await requireChatMember(c.var.db, c.req.param("chatId"), c.var.caller.userId);
    return c.json({ approvals: await listRoomApprovals(c.env, chat.id, c.req.valid("query").status) });
  })
  .post(
    "/:chatId/approvals/:approvalId",
    zValidator("json", decideApprovalBody, validationHook),
    async function decideApproval(c) {
      const { userId } = c.var.caller;
      const { chat, name, orgRole } = await requireChatMember(c.var.db, c.req.param("chatId"), userId);
      const approvalId = c.req.param("approvalId");
      const approval = await decideInRoom(
        c.env,
        chat.id,
        { userId, name, role: orgRole },
        approvalId,
        c.req.valid("json").decision,
      );
      return c.json({ approval });
    },
  )
  .get("/:chatId/artifacts/:artifactId", async function readArtifact(c) {
    const { chat } = await requireChatMember(c.var.db, c.req.param("chatId"), c.var.caller.userId);
    const artifact = await readRoomArtifact(c.env, chat.id, c.req.param("artifactId"));
    if (!artifact) throw notFound("no such artifact in this chat");
    return c.json({ artifact });
  });
