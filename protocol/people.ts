/** REST bodies and answers for finding an org's members by name and inviting people to an org. */
import { z } from "zod";
import { orgRole } from "./orgs";
import { displayName, userId } from "./primitives";

/** `GET /api/orgs/:orgId/members?q=`: members whose name contains `q` (any case); only the org's own members. */
export const orgMembersQuery = z.object({ q: z.string().trim().max(100).optional() });

export const invitationBody = z
  .object({
    /** Production (Clerk): the address Clerk's invitation goes to. */
    email: z.email().max(254).optional(),
    /** Development: the name of the development user added (their user id is made from it). */
    name: displayName.optional(),
    role: orgRole.default("member"),
  })
  .refine((body) => body.email !== undefined || body.name !== undefined, "give an email (or, in development, a name)");

export const invitationResponse = z.object({
  invitation: z
    .object({
      /** Clerk's invitation id (Clerk mode); null in development, where the person is added at once. */
      id: z.string().nullable(),
      email: z.string().nullable(),
      /** The development user added; null under Clerk until the invitation is accepted. */
      userId: userId.nullable(),
      name: z.string().nullable(),
      role: orgRole,
      status: z.enum(["added", "pending"]),
    })
    .meta({ id: "Invitation" }),
});
