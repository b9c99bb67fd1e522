import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import { openDatabase } from "../../api/db/client";
import { chatMemberships, pendingRevocations } from "../../api/db/schema";
import worker from "../../api/worker";
import { closeCodes } from "../../protocol/chat";
import { ChatRoom } from "../../rooms/chat-room";
import { chatWithMembers, client, connect, openSocket } from "./helpers";

/** The Worker's cron run, as production's trigger starts it. */
async function sweep(): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

async function pendingFor(chatId: string, userId: string): Promise<number> {
  const { db, close } = openDatabase(env);
  try {
    const rows = await db
      .select()
      .from(pendingRevocations)
      .where(and(eq(pendingRevocations.chatId, chatId), eq(pendingRevocations.userId, userId)));
    return rows.length;
  } finally {
    await close();
  }
}

describe("the revocation sweep", () => {
  it("a removal the room could not take at the time is delivered by the sweep, which retries until it can", async () => {
    const { chatId, admin, members } = await chatWithMembers(1);
    const [member] = members;
    const socket = await connect(chatId, member.token);
    // This chat's room refuses the next two calls to remove someone, as a room that cannot be reached would.
    let refusals = 2;
    const realRemove = ChatRoom.prototype.removeMember;
    const removeMember = vi.spyOn(ChatRoom.prototype, "removeMember");
    removeMember.mockImplementation(function (this: ChatRoom, userId: string) {
      if (this.name === chatId && refusals-- > 0) throw new Error("the room cannot be reached");
      return realRemove.call(this, userId);
    });
    try {
      const removal = await client(admin.token).api.chats[":chatId"].members.$delete({
        param: { chatId },
        json: { userId: member.userId },
      });
      expect(removal.status).toBe(500);
      // Postgres has the removal and the revocation still owed; the room did not hear of it.
      expect((await openSocket(chatId, member.token)).status).toBe(403);
      expect(await pendingFor(chatId, member.userId)).toBe(1);
      expect(socket.closed).toBeNull();

      await sweep();
      expect(refusals).toBe(0);
      expect(await pendingFor(chatId, member.userId)).toBe(1);
      expect(socket.closed).toBeNull();

      await sweep();
      await socket.until((s) => s.closed !== null, "the close");
      expect(socket.closed?.code).toBe(closeCodes.removedFromChat);
      expect(await pendingFor(chatId, member.userId)).toBe(0);
    } finally {
      removeMember.mockRestore();
    }
  });

  it("the sweep delivers a revocation queued in Postgres to a room that never heard of it", async () => {
    const { chatId, members } = await chatWithMembers(1);
    const [member] = members;
    const socket = await connect(chatId, member.token);
    // What the removal's transaction leaves when the Worker stops before it tells the room.
    const { db, close } = openDatabase(env);
    try {
      await db.transaction(async (tx) => {
        await tx
          .delete(chatMemberships)
          .where(and(eq(chatMemberships.chatId, chatId), eq(chatMemberships.userId, member.userId)));
        await tx.insert(pendingRevocations).values({ chatId, userId: member.userId });
      });
    } finally {
      await close();
    }
    expect(socket.closed).toBeNull();
    await sweep();
    await socket.until((s) => s.closed !== null, "the close");
    expect(socket.closed?.code).toBe(closeCodes.removedFromChat);
    expect(await pendingFor(chatId, member.userId)).toBe(0);
  });
});
