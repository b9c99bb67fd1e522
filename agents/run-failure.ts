import { errorFields, log } from "../api/log";
import type { RunRequest } from "../protocol/agent-runs";

/** Why a run could not finish, in the words members read in the chat's failure notice. */
export class RunFailure extends Error {}

export function failureReason(error: unknown, run: Pick<RunRequest, "orgId" | "chatId" | "runId">): string {
  if (error instanceof RunFailure) return error.message;
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return "the model took too long";
  }
  log("error", "agent_run_failed", { orgId: run.orgId, chatId: run.chatId, runId: run.runId, ...errorFields(error) });
  return "the model failed to answer";
}
