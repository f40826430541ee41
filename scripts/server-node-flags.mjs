// How the server process is started (`npm start`, and the bench and end-to-end tests, which run it the same way).
// Memory (docs/performance.md: under 300 MB; `npm run bench -- --only server` measures it under load):
// - a smaller young generation (V8's semi-spaces, 16 MiB each by default on 64-bit) keeps the peak RSS during a
//   backup about 30 MiB lower, for no measurable cost in backup time;
// - --heap-growing-percent=50: after each full collection V8 lets the heap grow to 1.5 times what is live, where its
//   own rule allows up to 4 times. Under load (request handling makes garbage fast) the heap had grown to ~190 MiB
//   for ~50 MiB live; a soft bound, unlike --max-old-space-size: a larger live set still gets the room it needs.
export const SERVER_NODE_FLAGS = ["--max-semi-space-size=2", "--heap-growing-percent=50"];

// Environment of the server process:
// - NEXT_MANUAL_SIG_HANDLE: Next.js leaves SIGTERM and SIGINT to Strongbox, whose stop (server/services.ts) ends the
//   running operation and closes the data file before exiting; Next's own handler would exit as soon as its HTTP
//   server closed, in the middle of that.
// - MALLOC_ARENA_MAX=2: glibc gives each thread that allocates (the compression workers, libuv's threadpool) its own
//   malloc arena, and keeps what a finished backup freed there: ~60 MiB more after each backup. Read by glibc at
//   process start, so it must be in the environment the server is started with.
export const SERVER_ENV = { NEXT_MANUAL_SIG_HANDLE: "1", MALLOC_ARENA_MAX: "2" };
