/**
 * A local stand-in for Clerk's Backend API (the few organization endpoints Parlor calls), speaking Clerk's wire
 * format: `/v1/...` paths, snake_case JSON, `object`-tagged resources. Like Clerk, every change yields a webhook,
 * signed with the Standard Webhooks library Clerk uses; tests fetch them from `/__deliveries` and post them to the
 * Worker, as Clerk's delivery would.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { Webhook } from "standardwebhooks";

import { STAND_IN_SECRET_KEY } from "./clerk-constants.ts";

type Membership = { orgId: string; userId: string; role: string; createdAt: number };
export type Delivery = { headers: Record<string, string>; body: string };

export type ClerkStandIn = { url: string; signingSecret: string; close: () => Promise<void> };

export async function startClerkStandIn(): Promise<ClerkStandIn> {
  const signingSecret = `whsec_${randomBytes(24).toString("base64")}`;
  const signer = new Webhook(signingSecret);
  type Org = { id: string; name: string; createdBy: string; createdAt: number; publicMetadata: object };
  const orgs = new Map<string, Org>();
  const memberships = new Map<string, Membership>();
  const deliveries: Delivery[] = [];

  const orgJson = (id: string) => {
    const org = orgs.get(id);
    if (!org) throw new Error("no org");
    return {
      object: "organization",
      id,
      name: org.name,
      slug: org.name.toLowerCase().replace(/\W+/g, "-"),
      image_url: "",
      has_image: false,
      created_at: org.createdAt,
      updated_at: org.createdAt,
      public_metadata: org.publicMetadata,
      private_metadata: {},
      max_allowed_memberships: 0,
      admin_delete_enabled: true,
      members_count: [...memberships.values()].filter((m) => m.orgId === id).length,
      created_by: org.createdBy,
    };
  };
  const membershipJson = (m: Membership) => ({
    object: "organization_membership",
    id: `orgmem_${m.orgId}_${m.userId}`,
    role: m.role,
    permissions: [],
    public_metadata: {},
    private_metadata: {},
    created_at: m.createdAt,
    updated_at: Date.now(),
    organization: orgJson(m.orgId),
    public_user_data: {
      identifier: `${m.userId}@example.com`,
      first_name: m.userId,
      last_name: null,
      image_url: "",
      has_image: false,
      user_id: m.userId,
    },
  });
  const emit = (type: string, data: unknown) => {
    const id = `msg_${randomUUID()}`;
    const at = new Date();
    const body = JSON.stringify({ data, object: "event", type, timestamp: at.getTime() });
    const headers = {
      "content-type": "application/json",
      "svix-id": id,
      "svix-timestamp": String(Math.floor(at.getTime() / 1000)),
      "svix-signature": signer.sign(id, at, body),
    };
    deliveries.push({ headers, body });
  };

  const server: Server = createServer(async (req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? "/", "http://stand-in");
    if (url.pathname === "/__deliveries") return send(200, { deliveries: deliveries.splice(0) });
    if (req.headers.authorization !== `Bearer ${STAND_IN_SECRET_KEY}`) {
      return send(401, { errors: [{ code: "authentication_invalid", message: "Invalid authentication" }] });
    }
    // Clerk snake-cases the top-level keys only: metadata arrives as the caller wrote it.
    const body = (await readJson(req)) as Record<string, string> & { public_metadata?: object };
    const parts = url.pathname.split("/").filter(Boolean); // v1, organizations, :id, memberships, :userId
    if (parts[0] !== "v1" || parts[1] !== "organizations")
      return send(404, { errors: [{ code: "resource_not_found" }] });
    if (req.method === "POST" && parts.length === 2) {
      // Tests ask for a refusal by name, to see that no half-made org is left behind.
      if (body.name?.startsWith("Refused")) {
        return send(422, { errors: [{ code: "form_param_format_invalid", message: "name is invalid" }] });
      }
      const id = `org_${randomBytes(8).toString("hex")}`;
      const publicMetadata = body.public_metadata ?? {};
      orgs.set(id, { id, name: body.name, createdBy: body.created_by, createdAt: Date.now(), publicMetadata });
      emit("organization.created", orgJson(id));
      const creator = { orgId: id, userId: body.created_by, role: "org:admin", createdAt: Date.now() };
      memberships.set(`${id}/${creator.userId}`, creator);
      emit("organizationMembership.created", membershipJson(creator));
      return send(200, orgJson(id));
    }
    const orgId = parts[2];
    if (orgs.has(orgId) && parts[3] === "invitations" && req.method === "POST" && parts.length === 4) {
      const at = Date.now();
      return send(200, {
        object: "organization_invitation",
        id: `orginv_${randomBytes(8).toString("hex")}`,
        email_address: body.email_address,
        role: body.role,
        organization_id: orgId,
        status: "pending",
        public_metadata: {},
        private_metadata: {},
        created_at: at,
        updated_at: at,
      });
    }
    if (!orgs.has(orgId) || parts[3] !== "memberships") return send(404, { errors: [{ code: "resource_not_found" }] });
    if (req.method === "POST" && parts.length === 4) {
      const key = `${orgId}/${body.user_id}`;
      if (memberships.has(key)) return send(422, { errors: [{ code: "already_a_member_in_organization" }] });
      const m = { orgId, userId: body.user_id, role: body.role, createdAt: Date.now() };
      memberships.set(key, m);
      emit("organizationMembership.created", membershipJson(m));
      return send(200, membershipJson(m));
    }
    const m = memberships.get(`${orgId}/${parts[4]}`);
    if (!m) return send(404, { errors: [{ code: "resource_not_found" }] });
    if (req.method === "PATCH") {
      m.role = body.role;
      emit("organizationMembership.updated", membershipJson(m));
      return send(200, membershipJson(m));
    }
    if (req.method === "DELETE") {
      memberships.delete(`${orgId}/${m.userId}`);
      emit("organizationMembership.deleted", membershipJson(m));
      return send(200, membershipJson(m));
    }
    return send(405, { errors: [{ code: "method_not_allowed" }] });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    signingSecret,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text ? JSON.parse(text) : {};
}
