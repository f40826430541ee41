// Starts the long-lived services when the Next server starts, not on the first request.
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { startServer } = await import("./server/web/start-server");
  await startServer();
}
