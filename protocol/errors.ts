/** The contract's error body, `{ error: { code, message } }`, for REST answers; socket errors carry the same codes. */
import { z } from "zod";
import { ERROR_CODES, ERROR_STATUS, type ErrorCode } from "./enums";

export { ERROR_CODES, ERROR_STATUS, type ErrorCode };

export const errorCode = z.enum(ERROR_CODES);

export const errorBodySchema = z
  .object({ error: z.object({ code: errorCode, message: z.string() }) })
  .meta({ id: "Error" });
export type ErrorBody = z.infer<typeof errorBodySchema>;
