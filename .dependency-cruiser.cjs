// The layer check (run by `npm test` first, and alone by `npm run layers`). The layers, lowest first:
//   server/isomorphic                       shared with the browser: no node: imports, imports nothing of ours
//   server/fs, server/zip                   files and archives as bytes
//   server/data, server/log, server/archive the data file, the log, an archive's names and manifest
//   server/backup, server/restore           the operations' work (restore never reaches into backup)
//   operations' users                       automation, scheduler, startup, services
//   server/trpc, server/web                 the transport (the only server code that may import tRPC, Next, next-auth)
//   app, components                         pages; components see the server only through server/isomorphic at run
//                                           time and the router's types (server/trpc/root.ts)
// Tests may wire higher layers together (a test of the log runs a backup); the rules are about the modules.
const TESTS = "(\\.test\\.ts$|/test-helpers\\.ts$)";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "A cycle makes two modules one: neither can change or be tested alone.",
      from: {},
      to: { circular: true },
    },
    {
      name: "server-without-web-frameworks",
      severity: "error",
      comment: "Domain code is plain TypeScript: only server/trpc and server/web (and the services' entry) speak Next, React, tRPC or next-auth.",
      from: { path: "^server/", pathNot: ["^server/trpc/", "^server/web/", "\\.test\\.ts$"] },
      to: { path: "^node_modules/(next|react|react-dom|@trpc/[^/]+|next-auth)/" },
    },
    {
      name: "isomorphic-stays-isomorphic",
      severity: "error",
      comment: "server/isomorphic runs in the browser too: no node: modules, nothing else of the server.",
      from: { path: "^server/isomorphic/", pathNot: TESTS },
      to: { path: "^server/", pathNot: "^server/isomorphic/" },
    },
    {
      name: "isomorphic-without-node",
      severity: "error",
      from: { path: "^server/isomorphic/", pathNot: TESTS },
      to: { dependencyTypes: ["core"] },
    },
    {
      name: "components-see-only-isomorphic",
      severity: "error",
      comment: "At run time, components import from the server only server/isomorphic; types come from the router (server/trpc/root).",
      from: { path: "^components/" },
      to: { path: "^server/", pathNot: ["^server/isomorphic/", "^server/trpc/root\\.ts$"], dependencyTypesNot: ["type-only"] },
    },
    {
      name: "components-never-reach-operations",
      severity: "error",
      comment: "Not even types: the backup's and the runner's internals are not the console's contract.",
      from: { path: "^components/" },
      to: { path: "^server/(backup|operations)/" },
    },
    {
      name: "restore-below-backup",
      severity: "error",
      comment: "Restores read archives through server/archive; they never depend on how a backup is made.",
      from: { path: "^server/restore/", pathNot: TESTS },
      to: { path: "^server/backup/" },
    },
    {
      name: "data-below-log-and-restore",
      severity: "error",
      comment: "The data layer takes a WriteLog interface; the log and restores are above it.",
      from: { path: "^server/data/", pathNot: TESTS },
      to: { path: "^server/(log|restore|backup|operations)/" },
    },
    {
      name: "archive-below-backup-and-restore",
      severity: "error",
      from: { path: "^server/archive/", pathNot: TESTS },
      to: { path: "^server/(backup|restore|operations)/" },
    },
    {
      name: "low-layers-stay-low",
      severity: "error",
      comment: "Files, ZIP, the data file and the log know nothing of operations, backups, restores or the transport.",
      from: { path: "^server/(fs|zip|data|log)/", pathNot: TESTS },
      to: { path: "^server/(backup|restore|operations|automation|scheduler|startup|trpc|web)/" },
    },
    {
      name: "database-without-settings",
      severity: "error",
      from: { path: "^server/database/", pathNot: TESTS },
      to: { path: "^server/settings/" },
    },
    {
      name: "domain-below-transport",
      severity: "error",
      comment: "Nothing in the domain imports the transport or the pages.",
      from: { path: "^server/", pathNot: ["^server/trpc/", "^server/web/"] },
      to: { path: "^(server/trpc|server/web|app|components)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: ["^node_modules", "^\\.next", "^\\.next-e2e", "^bench/\\.cache"] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default", "types"] },
    combinedDependencies: false,
  },
};
