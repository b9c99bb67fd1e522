/** Turns a failed zod validation into the contract's 400 error. */
import type { Context } from "hono";
import { errorBody } from "./errors";

type ValidationResult =
  | { success: true }
  | { success: false; error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> } };

export function validationHook(result: ValidationResult, c: Context): Response | undefined {
  if (result.success) return undefined;
  const issue = result.error.issues[0];
  const where = issue?.path.length ? `${issue.path.map(String).join(".")}: ` : "";
  return c.json(errorBody("bad_request", `${where}${issue?.message ?? "invalid input"}`), 400);
}
