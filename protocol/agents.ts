/**
 * Agents in the contract: their definitions (REST) and the run events a room broadcasts while they work.
 * `api/`, `rooms/`, `agents/` and `web/` import these; nothing redefines them.
 */
import { z } from "zod";
import {
  APPROVAL_EXPIRY,
  approvalPolicy,
  approvalReminderEvent,
  approvalVote,
  approvalVoteEvent,
  approverSet,
} from "./approval-policy";
import {
  AGENT_TRIGGERS,
  APPROVAL_OUTCOMES,
  APPROVAL_STATUSES,
  DECISIONS,
  HTTP_METHODS,
  type RUN_STATUSES,
  TOOL_STATUSES,
} from "./enums";
import { displayName, roomId, timestamp, uuid, writtenText } from "./primitives";
import { displayedHeaderValue, isPlainHeaderValue, writtenHeaderValue } from "./secrets";

export { HTTP_METHODS };

export const AGENT_HANDLE = /^[a-z0-9][a-z0-9_-]{0,31}$/;
export const MAX_SYSTEM_PROMPT = 8_000;
/** The longest reply a run streams and stores: past it nothing more is streamed, so streamed equals stored. */
export const MAX_REPLY_CHARS = 32_000;
export const MUTATING_METHODS: ReadonlySet<string> = new Set(["POST", "PUT", "PATCH", "DELETE"]);

const baseUrl = z
  .string()
  .url()
  .refine((u) => ["http:", "https:"].includes(new URL(u).protocol), "baseUrl must be http or https");

/** RFC 9110 token characters: anything else would make fetch throw when the tool runs. */
const headerName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "header names are RFC 9110 tokens");
/** No control characters (CR and LF would split headers), well-formed, at most 2,048 characters. */
const headerValue = z
  .string()
  .max(2048)
  .refine((value) => !hasControlCharacter(value), "header values may not hold control characters")
  .refine((value) => value.isWellFormed(), "must be well-formed Unicode");

function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return true;
  }
  return false;
}

export const httpToolConfig = z.object({
  allow: z
    .array(z.object({ baseUrl, methods: z.array(z.enum(HTTP_METHODS)).min(1) }))
    .min(1)
    .max(20),
  headers: z.record(headerName, headerValue).optional(),
  approval: approvalPolicy.optional(),
});

export const agentTools = z
  .object({
    http: httpToolConfig.optional(),
    history: z.object({}).strict().optional(),
  })
  .strict();
export type AgentTools = z.infer<typeof agentTools>;

export const agentTrigger = z.enum(AGENT_TRIGGERS);

const agentFields = {
  name: displayName,
  handle: z.string().regex(AGENT_HANDLE, "handle: 1-32 of a-z 0-9 _ -, starting with a letter or digit"),
  systemPrompt: writtenText({ min: 0, maxChars: MAX_SYSTEM_PROMPT }),
  model: writtenText({ maxChars: 100 }),
  trigger: agentTrigger,
  tools: agentTools,
};

export const createAgentBody = z.object({
  ...agentFields,
  systemPrompt: agentFields.systemPrompt.default(""),
  model: agentFields.model.optional(),
  trigger: agentFields.trigger.default("mention"),
  tools: agentFields.tools.default({}),
});
export type CreateAgentBody = z.infer<typeof createAgentBody>;
/** Only the fields sent change: no defaults here, or renaming an agent would reset its tools. */
export const updateAgentBody = z
  .object(agentFields)
  .partial()
  .refine((b) => Object.keys(b).length > 0, "nothing to change");

/** How a secret is shown anywhere outside the outbound request: by its name, in place. */
export const maskedSecret = (name: string) => `[secret:${name}]`;
/** A header value that is not yet a secret (no key to move it with): shown as this, never in the clear. */
export const HIDDEN_HEADER_VALUE = "[hidden]";

/** Header values as clients see them: `{{secret:NAME}}` as `[secret:NAME]`, a plain value hidden. */
export function headersForDisplay(headers: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers ?? {}).map(([name, value]) => [
      name,
      isPlainHeaderValue(value) ? HIDDEN_HEADER_VALUE : displayedHeaderValue(value),
    ]),
  );
}

/** An agent's tools as clients see them (see `headersForDisplay`). */
export function toolsForDisplay(tools: AgentTools): AgentTools {
  if (!tools.http?.headers) return tools;
  return { ...tools, http: { ...tools.http, headers: headersForDisplay(tools.http.headers) } };
}

/**
 * On update, a header sent back as shown means what it shows: `[secret:NAME]` the reference, `[hidden]` the value
 * stored before.
 */
export function mergeSecretHeaders(next: AgentTools, stored: AgentTools): AgentTools {
  const headers = next.http?.headers;
  if (!next.http || !headers) return next;
  const kept = Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name,
      value === HIDDEN_HEADER_VALUE ? (stored.http?.headers?.[name] ?? value) : writtenHeaderValue(value),
    ]),
  );
  return { ...next, http: { ...next.http, headers: kept } };
}
export const chatAgentBody = z.object({ agentId: uuid });

/** An agent as the API shows it: secrets in header values shown by name (see `toolsForDisplay`). */
export const agentSchema = z
  .object({
    id: uuid,
    name: z.string(),
    handle: z.string(),
    systemPrompt: z.string(),
    model: z.string().nullable(),
    trigger: agentTrigger,
    tools: agentTools,
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: "Agent" });
export const agentsResponse = z.object({ agents: z.array(agentSchema) });
export const agentResponse = z.object({ agent: agentSchema });
export const removedAgentResponse = z.object({ removed: z.object({ agentId: uuid }) });
export const chatAgentSchema = z
  .object({ agentId: uuid, name: z.string(), handle: z.string(), trigger: agentTrigger, model: z.string().nullable() })
  .meta({ id: "ChatAgent" });
export const chatAgentsResponse = z.object({ agents: z.array(chatAgentSchema) });
export const addedChatAgentResponse = z.object({ agent: z.object({ agentId: uuid }) });
export const agentIdParams = z.object({ orgId: z.string(), agentId: z.string() });

export const toolStatus = z.enum(TOOL_STATUSES);

export const runEventSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("run.started"),
    runId: z.string(),
    agentId: z.string(),
    triggerSeq: z.number().int(),
    /** The member whose message (or retry) started it: who may stop it, with org admins. */
    initiator: z.string().optional(),
  }),
  z.object({
    type: z.literal("run.delta"),
    runId: z.string(),
    agentId: z.string(),
    text: z.string(),
    /** The character offset of `text` in the reply: a client drops what it already has. */
    index: z.number().int().nonnegative(),
  }),
  z.object({
    type: z.literal("run.tool"),
    runId: z.string(),
    agentId: z.string(),
    toolCallId: z.string(),
    name: z.string(),
    input: z.unknown(),
    status: toolStatus,
    output: z.unknown().optional(),
  }),
  z.object({
    type: z.literal("run.finished"),
    runId: z.string(),
    agentId: z.string(),
    seq: z.number().int(),
    /** A member stopped the run; `seq` is its partial reply (or a short notice when it had written nothing). */
    stopped: z.literal(true).optional(),
  }),
  z.object({
    type: z.literal("run.failed"),
    runId: z.string(),
    agentId: z.string(),
    reason: z.string(),
    seq: z.number().int(),
  }),
  z.object({
    type: z.literal("run.snapshot"),
    runId: z.string(),
    agentId: z.string(),
    /** As on `run.started`. */
    initiator: z.string().optional(),
    text: z.string(),
    tools: z.array(
      z.object({
        toolCallId: z.string(),
        name: z.string(),
        input: z.unknown(),
        status: toolStatus,
        output: z.unknown().optional(),
      }),
    ),
  }),
]);
export type RunEvent = z.infer<typeof runEventSchema>;

// ---- approvals and artifacts ----

export const approvalDecision = z.enum(APPROVAL_OUTCOMES);
export type ApprovalDecision = z.infer<typeof approvalDecision>;

export const approvalSchema = z
  .object({
    approvalId: z.string(),
    runId: z.string(),
    agentId: z.string(),
    toolCallId: z.string(),
    method: z.string(),
    url: z.string(),
    /** Secrets in header values are shown as `[secret:NAME]`, never in the clear. */
    headers: z.record(z.string(), z.string()),
    body: z.string().nullable(),
    approvers: approverSet,
    initiator: z.string(),
    status: z.enum(APPROVAL_STATUSES),
    decidedBy: z.string().nullable(),
    expiresAt: timestamp,
    createdAt: timestamp,
    /** Approving votes needed (the policy's quorum); the room always says, absent means 1. */
    quorum: z.number().int().min(1).optional(),
    /** What expiry does; absent means `deny`. */
    onExpiry: z.enum(APPROVAL_EXPIRY).optional(),
    /** Every vote so far, oldest first (the room always says). */
    votes: z.array(approvalVote).optional(),
    /**
     * Approving votes that count toward `quorum` (the room always says): a voter removed from the chat since, or an
     * admin demoted since under an `admins` policy, keeps a vote in `votes` that no longer counts.
     */
    counted: z.number().int().min(0).optional(),
    /**
     * Where the request belongs in the conversation: the chat's last seq when the agent asked, so a client shows it
     * after that message. Absent on approvals stored before the room recorded it.
     */
    afterSeq: z.number().int().nonnegative().optional(),
    /** Chat members who may still vote (only in `GET …/approvals`; empty once decided). */
    waitingFor: z.array(z.string()).optional(),
  })
  .meta({ id: "Approval" });
export type Approval = z.infer<typeof approvalSchema>;

export const approvalEventSchema = z.discriminatedUnion("type", [
  approvalSchema
    .pick({
      approvalId: true,
      runId: true,
      agentId: true,
      method: true,
      url: true,
      headers: true,
      body: true,
      expiresAt: true,
      approvers: true,
      initiator: true,
    })
    .extend({
      type: z.literal("approval.requested"),
      quorum: z.number().int().min(1).optional(),
      onExpiry: z.enum(APPROVAL_EXPIRY).optional(),
      /** The votes so far, for a socket that connects while it is pending. */
      votes: z.array(approvalVote).optional(),
      counted: z.number().int().min(0).optional(),
      afterSeq: z.number().int().nonnegative().optional(),
    }),
  z.object({
    type: z.literal("approval.decided"),
    approvalId: z.string(),
    runId: z.string(),
    agentId: z.string(),
    decision: approvalDecision,
    by: z.string(),
  }),
  approvalVoteEvent,
  approvalReminderEvent,
]);
export type ApprovalEvent = z.infer<typeof approvalEventSchema>;

/** The `approval.requested` event for an approval: what every member sees (never a header's value). */
export function approvalRequested(approval: Approval): Extract<ApprovalEvent, { type: "approval.requested" }> {
  const { approvalId, runId, agentId, method, url, headers, body, expiresAt, approvers, initiator } = approval;
  const { quorum, onExpiry, votes, counted, afterSeq } = approval;
  return {
    type: "approval.requested",
    approvalId,
    runId,
    agentId,
    method,
    url,
    headers,
    body,
    expiresAt,
    approvers,
    initiator,
    quorum,
    onExpiry,
    votes,
    counted,
    afterSeq,
  };
}

/** What a member sends to decide, over the socket (`type: "approval"`) or REST. */
export const decideApprovalBody = z.object({ decision: z.enum(DECISIONS) });
export const listApprovalsQuery = z.object({ status: z.enum(APPROVAL_STATUSES).optional() });
export const approvalsResponse = z.object({ approvals: z.array(approvalSchema) });
export const approvalResponse = z.object({ approval: approvalSchema });
export const approvalParams = z.object({ chatId: z.string(), approvalId: roomId });

export const artifactSchema = z
  .object({
    id: z.string(),
    runId: z.string(),
    kind: z.literal("http_response"),
    status: z.number().int().optional(),
    contentType: z.string().optional(),
    body: z.string(),
    truncated: z.boolean(),
  })
  .meta({ id: "Artifact" });
export type Artifact = z.infer<typeof artifactSchema>;
export const artifactResponse = z.object({ artifact: artifactSchema });
export const artifactParams = z.object({ chatId: z.string(), artifactId: roomId });

/** An HTTP tool call as the model asks for it. */
export const httpRequestInput = z.object({
  method: z.enum(HTTP_METHODS),
  url: z.string().url(),
  body: z
    .string()
    .max(64 * 1024)
    .optional(),
});
export type HttpRequestInput = z.infer<typeof httpRequestInput>;
export const historyInput = z.object({
  query: z.string().min(1).max(200),
  limit: z.number().int().min(1).max(50).optional(),
});

/** One run in the chat's live-progress document (Yjs map `runs`, keyed by runId). View state, not the record. */
export type RunProgress = {
  agentId: string;
  status: (typeof RUN_STATUSES)[number];
  tools: { toolCallId: string; name: string; status: string }[];
  startedAt: string;
  updatedAt: string;
};

// ---- stopping and retrying runs ----

export const runParams = z.object({ chatId: z.string(), runId: roomId });
export const stopRunResponse = z.object({
  runId: z.string(),
  /** The stored partial reply, or the notice that stands for it. */
  seq: z.number().int(),
  stopped: z.literal(true),
});
export const retryRunResponse = z.object({ runId: z.string() });
