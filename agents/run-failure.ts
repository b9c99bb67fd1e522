/** Why a run could not finish, in the words members read in the chat's failure notice. */
export class RunFailure extends Error {}

export function failureReason(error: unknown): string {
  if (error instanceof RunFailure) return error.message;
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return "the model took too long";
  }
  console.error("agent run failed", error);
  return "the model failed to answer";
}
