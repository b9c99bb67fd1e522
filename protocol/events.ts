/** Everything a chat's room sends on its socket, as one union: the contract's `RoomEvent`. */
import { z } from "zod";
import { approvalEventSchema, runEventSchema } from "./agents";
import { chatEventSchemas } from "./chat";
import { chatUpdatedEvent } from "./chat-lifecycle";
import { messageEditEventSchemas } from "./message-edits";

export const roomEventSchema = z
  .discriminatedUnion("type", [
    ...chatEventSchemas,
    ...runEventSchema.options,
    ...approvalEventSchema.options,
    ...messageEditEventSchemas,
    chatUpdatedEvent,
  ])
  .meta({ id: "RoomEvent" });
export type RoomEvent = z.infer<typeof roomEventSchema>;
export type RoomEventOf<T extends RoomEvent["type"]> = Extract<RoomEvent, { type: T }>;
