// Limits the browser and the server share.

/** Most procedure calls in one tRPC batch (the request guard refuses more; the console's batch link sends no more). */
export const MAX_BATCH_CALLS = 20;
