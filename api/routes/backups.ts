/**
 * Backups (org admins who are in the chat): a snapshot of the chat's room written to R2 by the room itself, the
 * list of its snapshots, and a restore into a new chat that is created only once the whole backup has been read and
 * every checksum matched (422 `backup_corrupt` otherwise, and nothing is created).
 */
import { and, eq, isNotNull } from "drizzle-orm";
import { type Backup, backupResponse, backupsResponse, manifestSchema, restoreBody } from "../../protocol/backups";
import { chatIdParams, createdResponse, orgIdParams } from "../../protocol/orgs";
import { BackupCorrupt, manifestKey, readManifest, snapshotPrefix, verifySnapshot } from "../../rooms/backup-format";
import { backupOf } from "../../rooms/backups";
import type { ChatRoom } from "../../rooms/chat-room";
import { requireChatMember, requireOrgAdmin } from "../access";
import { chatMemberships, chats } from "../db/schema";
import { ApiError, forbidden, notFound } from "../errors";
import { authedRoute, jsonBody, jsonContent, router } from "../openapi";
import { activateRoom } from "../orchestrator";

const tags = ["backups"];

function roomOf(env: Env, chatId: string): DurableObjectStub<ChatRoom> {
  return (env.ChatRoom as DurableObjectNamespace<ChatRoom>).getByName(chatId);
}

const createBackupRoute = authedRoute(
  {
    method: "post",
    path: "/{chatId}/backups",
    tags,
    summary: "Back the chat up to R2 now (org admins in the chat)",
    request: { params: chatIdParams },
    responses: { 201: jsonContent(backupResponse, "The snapshot, complete (its manifest is written last).") },
  },
  ["forbidden", "not_found"],
);
const listBackupsRoute = authedRoute(
  {
    method: "get",
    path: "/{chatId}/backups",
    tags,
    summary: "The chat's complete snapshots, newest first (org admins in the chat)",
    request: { params: chatIdParams },
    responses: { 200: jsonContent(backupsResponse, "Snapshots with a manifest; incomplete ones are left out.") },
  },
  ["forbidden", "not_found"],
);
const restoreRoute = authedRoute(
  {
    method: "post",
    path: "/{orgId}/chats/restore",
    tags,
    summary: "Restore a chat's backup into a new chat of the org (org admins); the restorer is its member",
    description:
      "Every object is read and checked against the manifest before anything is created: a corrupt, truncated or " +
      "missing object answers 422 `backup_corrupt` saying which, and nothing is created. A deleted chat's backups " +
      "answer 404 until the chat is restored. Same seqs, ids, authors, " +
      "texts and times; artifacts keep their ids; pending approvals come back expired.",
    request: { params: orgIdParams, body: jsonBody(restoreBody) },
    responses: { 201: jsonContent(createdResponse, "The new chat's id.") },
  },
  ["forbidden", "not_found", "backup_corrupt"],
);

export const chatBackupRoutes = router()
  .openapi(createBackupRoute, async function createBackup(c) {
    const { chat, orgRole } = await requireChatMember(c.var.db, c.req.valid("param").chatId, c.var.caller.userId);
    if (orgRole !== "admin") throw forbidden("only org admins may back a chat up");
    await activateRoom(c.env, { chatId: chat.id, orgId: chat.orgId });
    const backup = await roomOf(c.env, chat.id).backup();
    await c.var.db.transaction((tx) =>
      c.var.audit.record(tx, {
        orgId: chat.orgId,
        actor: { type: "user", id: c.var.caller.userId },
        action: "backup.created",
        target: `chat:${chat.id} backup:${backup.id} messages=${backup.messages}`,
      }),
    );
    return c.json({ backup }, 201);
  })
  .openapi(listBackupsRoute, async function listBackups(c) {
    const { chat, orgRole } = await requireChatMember(c.var.db, c.req.valid("param").chatId, c.var.caller.userId);
    if (orgRole !== "admin") throw forbidden("only org admins may see a chat's backups");
    const backups: Backup[] = [];
    const prefix = snapshotPrefix(chat.orgId, chat.id);
    let cursor: string | undefined;
    do {
      const listed = await c.env.BACKUPS.list({ prefix, cursor });
      for (const object of listed.objects) {
        if (!object.key.endsWith("/manifest.json")) continue;
        const parsed = manifestSchema.safeParse(await (await c.env.BACKUPS.get(object.key))?.json());
        if (parsed.success) backups.push(backupOf(parsed.data));
      }
      cursor = listed.truncated ? listed.cursor : undefined;
    } while (cursor);
    backups.sort((a, b) => (a.id < b.id ? 1 : -1));
    return c.json({ backups }, 200);
  });

export const orgRestoreRoutes = router().openapi(restoreRoute, async function restoreChat(c) {
  const { userId } = c.var.caller;
  const { orgId } = await requireOrgAdmin(c.var.db, c.req.valid("param").orgId, userId);
  const { chatId: sourceId, backupId } = c.req.valid("json");
  // A deleted chat's backups wait for its purge; restoring one would keep its words past it (restore the chat instead).
  const [deleted] = await c.var.db
    .select({ id: chats.id })
    .from(chats)
    .where(and(eq(chats.id, sourceId), isNotNull(chats.deletedAt)));
  if (deleted) throw notFound("chat not found");
  let manifest: Awaited<ReturnType<typeof readManifest>>;
  try {
    manifest = await readManifest(c.env.BACKUPS, manifestKey(orgId, sourceId, backupId), { orgId, chatId: sourceId });
    await verifySnapshot(c.env.BACKUPS, manifest);
  } catch (error) {
    if (error instanceof BackupCorrupt) throw new ApiError("backup_corrupt", `backup ${backupId}: ${error.message}`);
    throw error;
  }
  const [source] = await c.var.db.select({ title: chats.title }).from(chats).where(eq(chats.id, sourceId));
  const title = `${source?.title ?? "Chat"} (restored)`.slice(0, 80);
  const id = await c.var.db.transaction(async (tx) => {
    const [chat] = await tx.insert(chats).values({ orgId, title, createdBy: userId }).returning({ id: chats.id });
    await tx.insert(chatMemberships).values({ chatId: chat.id, orgId, userId });
    await c.var.audit.record(tx, {
      orgId,
      actor: { type: "user", id: userId },
      action: "chat.restored",
      target: `chat:${chat.id} from:chat:${sourceId} backup:${backupId} messages=${manifest.messages}`,
    });
    return chat.id;
  });
  try {
    await roomOf(c.env, id).restoreFrom({ chatId: id, orgId }, manifest);
  } catch (error) {
    // The backup changed under us (it verified a moment ago): no chat is left behind.
    await c.var.db.delete(chats).where(eq(chats.id, id));
    const message = (error as Error).message;
    if (message.includes("backup_corrupt")) {
      throw new ApiError("backup_corrupt", `backup ${backupId}: ${message.replace(/^.*backup_corrupt: /, "")}`);
    }
    throw error;
  }
  return c.json({ id }, 201);
});
