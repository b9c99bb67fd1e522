/** Agent templates the server offers (the built-in assistant among them): a definition ready to create. */
import { z } from "zod";
import { agentTools, agentTrigger } from "./agents";

export const agentTemplateSchema = z
  .object({
    id: z.string(),
    description: z.string(),
    /** The body for `POST /api/orgs/:orgId/agents`, as is (or edited first). */
    agent: z.object({
      name: z.string(),
      handle: z.string(),
      systemPrompt: z.string(),
      model: z.string().optional(),
      trigger: agentTrigger,
      tools: agentTools,
    }),
  })
  .meta({ id: "AgentTemplate" });
export type AgentTemplate = z.infer<typeof agentTemplateSchema>;
export const agentTemplatesResponse = z.object({ templates: z.array(agentTemplateSchema) });
