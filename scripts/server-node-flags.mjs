// How the server process is started (`npm start`, and the bench and end-to-end tests, which run it the same way).
// A smaller young generation (V8's semi-spaces, 16 MiB each by default on 64-bit) keeps the server's peak RSS during a
// backup about 30 MiB lower, under spec §12's 300 MB, for no measurable cost in backup time (`npm run bench`).
export const SERVER_NODE_FLAGS = ["--max-semi-space-size=2"];

// Environment of the server process. NEXT_MANUAL_SIG_HANDLE: Next.js leaves SIGTERM and SIGINT to Strongbox, whose
// stop (server/services.ts) ends the running operation and closes the data file before exiting; Next's own handler
// would exit as soon as its HTTP server closed, in the middle of that.
export const SERVER_ENV = { NEXT_MANUAL_SIG_HANDLE: "1" };
