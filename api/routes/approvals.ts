/** Approvals of tool calls and the artifacts tool calls produced, both kept by the chat's room. */
import {
  approvalParams,
  approvalResponse,
  approvalsResponse,
  artifactParams,
  artifactResponse,
  decideApprovalBody,
  listApprovalsQuery,
} from "../../protocol/agents";
import { waitingFor } from "../../protocol/approval-policy";
import { chatIdParams } from "../../protocol/orgs";
import { requireChatMember } from "../access";
import { chatDeciders } from "../approval-deciders";
import { notFound } from "../errors";
import { authedRoute, jsonBody, jsonContent, router } from "../openapi";
import { decideInRoom, listRoomApprovals, readRoomArtifact } from "../orchestrator";

const tags = ["approvals"];

const listApprovalsRoute = authedRoute(
  {
    method: "get",
    path: "/{chatId}/approvals",
    tags,
    summary: "The chat's approval requests, optionally by status",
    request: { params: chatIdParams, query: listApprovalsQuery },
    responses: {
      200: jsonContent(approvalsResponse, "Header values are masked; votes so far and who may still vote."),
    },
  },
  ["forbidden", "not_found"],
);
const decideApprovalRoute = authedRoute(
  {
    method: "post",
    path: "/{chatId}/approvals/{approvalId}",
    tags,
    summary: "Vote to approve or deny a tool call (as the tool's approval policy allows)",
    request: { params: approvalParams, body: jsonBody(decideApprovalBody) },
    responses: {
      200: jsonContent(approvalResponse, "The vote is recorded; the quorum's last approval or any denial decides."),
    },
  },
  ["forbidden", "not_found", "conflict"],
);
const readArtifactRoute = authedRoute(
  {
    method: "get",
    path: "/{chatId}/artifacts/{artifactId}",
    tags,
    summary: "A tool result stored with its run",
    request: { params: artifactParams },
    responses: { 200: jsonContent(artifactResponse, "The artifact.") },
  },
  ["forbidden", "not_found"],
);

export const approvalRoutes = router()
  .openapi(listApprovalsRoute, async function listApprovals(c) {
    const { chat } = await requireChatMember(c.var.db, c.req.valid("param").chatId, c.var.caller.userId);
    const approvals = await listRoomApprovals(c.env, chat.id, c.req.valid("query").status);
    // Who is still needed: the chat's members the policy lets decide, who have not voted.
    const members = approvals.some((a) => a.status === "pending") ? await chatDeciders(c.var.db, chat.id) : [];
    return c.json(
      { approvals: approvals.map((a) => ({ ...a, waitingFor: waitingFor({ ...a, votes: a.votes ?? [] }, members) })) },
      200,
    );
  })
  .openapi(decideApprovalRoute, async function decideApproval(c) {
    const { userId } = c.var.caller;
    const params = c.req.valid("param");
    const { chat, name, orgRole } = await requireChatMember(c.var.db, params.chatId, userId);
    const approvalId = params.approvalId;
    const approval = await decideInRoom(
      c.env,
      chat.id,
      { userId, name, role: orgRole },
      approvalId,
      c.req.valid("json").decision,
    );
    return c.json({ approval }, 200);
  })
  .openapi(readArtifactRoute, async function readArtifact(c) {
    const params = c.req.valid("param");
    const { chat } = await requireChatMember(c.var.db, params.chatId, c.var.caller.userId);
    const artifact = await readRoomArtifact(c.env, chat.id, params.artifactId);
    if (!artifact) throw notFound("no such artifact in this chat");
    return c.json({ artifact }, 200);
  });
