/** `GET /api/orgs/:orgId/agent-templates`: definitions an org member can create agents from. */
import { agentTemplatesResponse } from "../../protocol/agent-templates";
import { orgIdParams } from "../../protocol/orgs";
import { requireOrgMember } from "../access";
import { agentTemplates } from "../agent-templates";
import { authedRoute, jsonContent, router } from "../openapi";

const listTemplatesRoute = authedRoute(
  {
    method: "get",
    path: "/{orgId}/agent-templates",
    tags: ["agents"],
    summary: "Agent templates offered by this server (the built-in assistant)",
    description:
      "Each template's `agent` is a body for `POST /api/orgs/{orgId}/agents`. In development the assistant may " +
      "call the development echo at this server's origin, in both its localhost and 127.0.0.1 forms.",
    request: { params: orgIdParams },
    responses: { 200: jsonContent(agentTemplatesResponse, "The templates.") },
  },
  ["not_found"],
);

export const agentTemplateRoutes = router().openapi(listTemplatesRoute, async function listAgentTemplates(c) {
  await requireOrgMember(c.var.db, c.req.valid("param").orgId, c.var.caller.userId);
  return c.json({ templates: agentTemplates(c.env, c.req.url) }, 200);
});
