/**
 * A "database" that accepts TCP connections and never answers: what a hung PostgreSQL (stopped with SIGSTOP, or
 * behind a black-holing network) looks like to a client. Tests point DATABASE_URL at it to prove every call has a
 * deadline.
 */
import { createServer, type Socket } from "node:net";

export type HungPostgres = { url: string; close: () => Promise<void> };

export async function startHungPostgres(): Promise<HungPostgres> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    // Reads the startup message and says nothing, ever.
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("the hung Postgres stand-in has no port");
  return {
    url: `postgres://parlor:parlor@127.0.0.1:${address.port}/parlor`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
