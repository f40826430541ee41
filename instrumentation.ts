// Starts the long-lived services when the Next server starts, not on the first request.
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  // Before the first request is served: the sign-in throttle keys on the socket's address (see client-address.ts).
  const { installPeerStamp } = await import("./server/web/client-address");
  installPeerStamp();
  const { startServer } = await import("./server/web/start-server");
  await startServer();
}
