// Hooks on real temp folders and real child processes: which file is the hook, what it gets, what its end means,
// and that a timeout or a Stop really kills it and what it started.
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { demoProjectFiles } from "../demo/demo-project";
import { STATUS } from "../isomorphic/status";
import { findHook, HookError, hookEnv, hookSummary, isHookError, runHook, startupDecision } from "./backup-hooks";

let dir: string;
let hooksDir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "strongbox-hooks-"));
  hooksDir = path.join(dir, "Project", "Sources", "DatabaseMethods");
  await mkdir(hooksDir, { recursive: true });
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function plant(name: string, body: string, mode = 0o755): Promise<string> {
  const file = path.join(hooksDir, name);
  await writeFile(file, body);
  await chmod(file, mode);
  return file;
}

const env = hookEnv({
  backupNumber: 12,
  trigger: { kind: "manual", user: "alice" },
  status: 0,
  databaseDir: "/srv/db",
  databaseName: "Demo",
  destination: "/srv/backups",
});

/** Dead: no such process, or a zombie left to an init that does not reap (as in some containers). */
async function isGone(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
  const st = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  return /^\d+ \(.*\) Z /.test(st);
}

const pidOf = (output: string[], label: string) => Number(output.find((l) => l.startsWith(`${label} `))?.split(" ")[1]);

describe("findHook", () => {
  it("finds nothing in a missing or empty folder, and ignores other extensions", async () => {
    expect(await findHook(path.join(dir, "nope"), "onBackupStartup")).toBeNull();
    expect(await findHook(hooksDir, "onBackupStartup")).toBeNull();
    await plant("onBackupStartup.mjs.example", "process.exit(3)\n", 0o644);
    await plant("onBackupStartup.example", "#!/bin/sh\nexit 3\n");
    await plant("onBackupStartup.sh", "#!/bin/sh\nexit 3\n");
    await plant("onbackupstartup", "#!/bin/sh\nexit 3\n");
    expect(await findHook(hooksDir, "onBackupStartup")).toBeNull();
  });

  it("finds an executable, a .js and a .mjs hook, each for its own name", async () => {
    const exe = await plant("onBackupStartup", "#!/bin/sh\n");
    const js = await plant("onBackupShutdown.js", "", 0o644);
    expect(await findHook(hooksDir, "onBackupStartup")).toEqual({ name: "onBackupStartup", path: exe, kind: "executable" });
    expect(await findHook(hooksDir, "onBackupShutdown")).toEqual({ name: "onBackupShutdown", path: js, kind: "node" });
    await rm(js);
    const mjs = await plant("onBackupShutdown.mjs", "", 0o644);
    expect(await findHook(hooksDir, "onBackupShutdown")).toEqual({ name: "onBackupShutdown", path: mjs, kind: "node" });
  });

  it("refuses two candidates for the same hook, naming both", async () => {
    const a = await plant("onBackupStartup", "#!/bin/sh\n");
    const b = await plant("onBackupStartup.js", "", 0o644);
    const err = await findHook(hooksDir, "onBackupStartup").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HookError);
    expect(isHookError(err)).toBe(true);
    expect((err as HookError).message).toContain(a);
    expect((err as HookError).message).toContain(b);
    expect((err as HookError).files).toEqual([a, b]);
  });

  it("refuses a hook without extension that is not executable (mode bits, even as root)", async () => {
    const file = await plant("onBackupShutdown", "#!/bin/sh\n", 0o644);
    await expect(findHook(hooksDir, "onBackupShutdown")).rejects.toThrow(HookError);
    await expect(findHook(hooksDir, "onBackupShutdown")).rejects.toThrow(/not executable.*chmod \+x/);
    await chmod(file, 0o744);
    expect(await findHook(hooksDir, "onBackupShutdown")).toMatchObject({ kind: "executable" });
  });
});

describe("runHook", () => {
  it("runs an executable with the backup's context and captures stdout and stderr", async () => {
    await plant(
      "onBackupStartup",
      '#!/bin/sh\necho "hook=$STRONGBOX_HOOK number=$STRONGBOX_BACKUP_NUMBER trigger=$STRONGBOX_TRIGGER user=$STRONGBOX_USER"\n' +
        'echo "status=$STRONGBOX_STATUS db=$STRONGBOX_DATABASE dest=$STRONGBOX_DESTINATION"\necho "to stderr" >&2\npwd\n' +
        'echo "secret=${NEXTAUTH_SECRET:-none}"\n',
    );
    const found = (await findHook(hooksDir, "onBackupStartup"))!;
    process.env.NEXTAUTH_SECRET = "do-not-leak";
    try {
      const result = await runHook(found, { env, cwd: dir });
      expect(result).toMatchObject({ hook: "onBackupStartup", exitCode: 0, signal: null, timedOut: false, aborted: false });
      expect(result.error).toBeUndefined();
      // Two pipes: the order between stdout and stderr lines is the order they arrived in, not guaranteed.
      expect(result.output.filter((l) => l !== "to stderr")).toEqual([
        "hook=onBackupStartup number=12 trigger=manual user=alice",
        "status=0 db=/srv/db dest=/srv/backups",
        dir,
        "secret=none",
      ]);
      expect(result.output).toContain("to stderr");
      expect(startupDecision(result)).toEqual({ proceed: true });
      expect(hookSummary(result)).toBe("onBackupStartup: exit code 0");
    } finally {
      delete process.env.NEXTAUTH_SECRET;
    }
  });

  it("runs a .mjs hook with Node", async () => {
    await plant(
      "onBackupShutdown.mjs",
      'import { basename } from "node:path";\nconsole.log(`node ${process.execPath} ${basename(process.argv[1])} status=${process.env.STRONGBOX_STATUS}`);\n',
      0o644,
    );
    const found = (await findHook(hooksDir, "onBackupShutdown"))!;
    const result = await runHook(found, { env: { ...env, STRONGBOX_STATUS: "1409" }, cwd: dir });
    expect(result.exitCode).toBe(0);
    expect(result.output).toEqual([`node ${process.execPath} onBackupShutdown.mjs status=1409`]);
  });

  it("a non-zero exit code cancels the backup with that code as its status", async () => {
    await plant("onBackupStartup", "#!/bin/sh\necho checking\necho 'maintenance.lock present'\nexit 7\n");
    const result = await runHook((await findHook(hooksDir, "onBackupStartup"))!, { env, cwd: dir });
    expect(result.exitCode).toBe(7);
    expect(startupDecision(result)).toEqual({
      proceed: false,
      status: 7,
      text: "Canceled by the On Backup Startup hook (returned 7): maintenance.lock present",
    });
  });

  it("kills the hook and everything it started when it times out", async () => {
    await plant("onBackupStartup", '#!/bin/sh\necho "self $$"\nsleep 30 &\necho "child $!"\nwait\n');
    const result = await runHook((await findHook(hooksDir, "onBackupStartup"))!, { env, cwd: dir, timeoutMs: 500 });
    expect(result).toMatchObject({ timedOut: true, aborted: false, exitCode: null, signal: "SIGTERM" });
    for (const label of ["self", "child"]) {
      const pid = pidOf(result.output, label);
      expect(pid).toBeGreaterThan(0);
      await expect.poll(() => isGone(pid)).toBe(true);
    }
    expect(startupDecision(result)).toEqual({ proceed: false, status: STATUS.BACKUP_ERROR, text: "the On Backup Startup hook timed out after 0.5 s" });
    expect(hookSummary(result)).toBe("onBackupStartup: timed out after 0.5 s, stopped");
  });

  it("uses SIGKILL on a hook that ignores SIGTERM", async () => {
    await plant("onBackupStartup", "#!/bin/sh\ntrap '' TERM\necho \"self $$\"\nsleep 30 &\necho \"child $!\"\nwait\nwait\n");
    const result = await runHook((await findHook(hooksDir, "onBackupStartup"))!, { env, cwd: dir, timeoutMs: 300, killGraceMs: 200 });
    expect(result).toMatchObject({ timedOut: true, exitCode: null, signal: "SIGKILL" });
    for (const label of ["self", "child"]) await expect.poll(() => isGone(pidOf(result.output, label))).toBe(true);
  });

  it("is stopped by an abort signal (a user Stop)", async () => {
    const marker = path.join(dir, "started");
    await plant("onBackupStartup", `#!/bin/sh\necho "self $$"\nsleep 30 &\necho "child $!"\ntouch '${marker}'\nwait\n`);
    const stop = new AbortController();
    const running = runHook((await findHook(hooksDir, "onBackupStartup"))!, { env, cwd: dir, signal: stop.signal });
    await expect.poll(() => stat(marker).then(() => true, () => false)).toBe(true);
    stop.abort();
    const result = await running;
    expect(result).toMatchObject({ aborted: true, timedOut: false, exitCode: null });
    for (const label of ["self", "child"]) await expect.poll(() => isGone(pidOf(result.output, label))).toBe(true);
    expect(startupDecision(result)).toEqual({ proceed: false, status: STATUS.CANCELED_BY_USER, text: "Backup canceled by user" });

    // Already stopped: the hook is not even started.
    await rm(marker);
    const again = await runHook((await findHook(hooksDir, "onBackupStartup"))!, { env, cwd: dir, signal: stop.signal });
    expect(again).toMatchObject({ aborted: true, exitCode: null, output: [] });
    await expect(stat(marker)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("reports a hook that cannot be started instead of throwing", async () => {
    await plant("onBackupStartup", "#!/no/such/interpreter\nexit 0\n");
    const found = (await findHook(hooksDir, "onBackupStartup"))!;
    const result = await runHook(found, { env, cwd: dir });
    expect(result.exitCode).toBeNull();
    expect(result.error).toBe(`${found.path} could not be started: the file, the interpreter named on its #! line, or the working folder ${dir} was not found`);
    const decision = startupDecision(result);
    expect(decision).toMatchObject({ proceed: false, status: STATUS.BACKUP_ERROR });
    expect(decision.proceed === false && decision.text).toContain(found.path);

    // Deleted between findHook and runHook; and a working folder that does not exist.
    await rm(found.path);
    expect((await runHook(found, { env, cwd: dir })).error).toContain("could not be started");
    await plant("onBackupStartup", "#!/bin/sh\n");
    expect((await runHook(found, { env, cwd: path.join(dir, "missing") })).error).toContain("could not be started");
  });

  it("does not wait for a background process that keeps the output open", async () => {
    await plant("onBackupShutdown", '#!/bin/sh\necho done\nsleep 30 &\necho "child $!"\nexit 0\n');
    const result = await runHook((await findHook(hooksDir, "onBackupShutdown"))!, { env, cwd: dir });
    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    expect(result.output[0]).toBe("done");
    process.kill(pidOf(result.output, "child"), "SIGKILL");
  });

  it("keeps only the end of a long output, from a line boundary", async () => {
    await plant("onBackupStartup.mjs", 'for (let i = 0; i < 20000; i++) console.log(`line ${i} ${"x".repeat(20)}`);\n', 0o644);
    const result = await runHook((await findHook(hooksDir, "onBackupStartup"))!, { env, cwd: dir });
    expect(result.exitCode).toBe(0);
    expect(result.output[0]).toMatch(/^\[\d+ earlier bytes of output not kept\]$/);
    expect(result.output[1]).toMatch(/^line \d+ x{20}$/);
    expect(result.output.at(-1)).toBe(`line 19999 ${"x".repeat(20)}`);
    expect(result.output.slice(1).join("\n").length).toBeLessThanOrEqual(64 * 1024);
  });
});

describe("hook results", () => {
  const base = { hook: "onBackupStartup" as const, exitCode: null, signal: null, timedOut: false, aborted: false, timeoutMs: 60_000, output: [] };
  it("reads a kill by another signal and a silent refusal", () => {
    expect(startupDecision({ ...base, signal: "SIGKILL" })).toEqual({ proceed: false, status: 1409, text: "the On Backup Startup hook was killed by SIGKILL" });
    expect(startupDecision({ ...base, exitCode: 1 })).toEqual({ proceed: false, status: 1, text: "Canceled by the On Backup Startup hook (returned 1)" });
    expect(startupDecision({ ...base, timedOut: true })).toMatchObject({ text: "the On Backup Startup hook timed out after 60 s" });
  });

  it("gives the whole contract to the hook", () => {
    expect(
      hookEnv({
        backupNumber: 3,
        trigger: { kind: "scheduler", user: null },
        status: 1409,
        partial: true,
        databaseDir: "/db",
        databaseName: "Demo",
        destination: "/b",
        archivePath: "/b/Demo[0003].zip",
      }),
    ).toEqual({
      STRONGBOX_BACKUP_NUMBER: "3",
      STRONGBOX_TRIGGER: "scheduler",
      STRONGBOX_USER: "",
      STRONGBOX_STATUS: "1409",
      STRONGBOX_STATUS_TEXT: "Error during backup",
      STRONGBOX_PARTIAL: "1",
      STRONGBOX_DATABASE: "/db",
      STRONGBOX_DATABASE_NAME: "Demo",
      STRONGBOX_DESTINATION: "/b",
      STRONGBOX_ARCHIVE: "/b/Demo[0003].zip",
    });
  });
});

describe("the demo's example hooks", () => {
  it("are inactive as shipped, and work once copied under their real names", async () => {
    const files = demoProjectFiles("Demo");
    const examples = Object.entries(files).filter(([f]) => f.startsWith("Project/Sources/DatabaseMethods/examples/"));
    expect(examples.map(([f]) => path.basename(f)).sort()).toEqual(["onBackupShutdown.mjs.example", "onBackupStartup.mjs.example"]);
    for (const [f, body] of examples) {
      await mkdir(path.join(dir, path.dirname(f)), { recursive: true });
      await writeFile(path.join(dir, f), body);
    }
    expect(await findHook(hooksDir, "onBackupStartup")).toBeNull();
    expect(await findHook(hooksDir, "onBackupShutdown")).toBeNull();

    const startupBody = examples.find(([f]) => f.endsWith("onBackupStartup.mjs.example"))![1];
    await plant("onBackupStartup.mjs", startupBody, 0o644);
    const startup = (await findHook(hooksDir, "onBackupStartup"))!;
    const ctx = { ...env, STRONGBOX_DATABASE: dir };
    const ok = await runHook(startup, { env: ctx, cwd: dir });
    expect(ok.output).toEqual([`Backup #12 (manual) of ${dir} to /srv/backups`]);
    expect(startupDecision(ok)).toEqual({ proceed: true });
    await writeFile(path.join(dir, "maintenance.lock"), "");
    const refused = startupDecision(await runHook(startup, { env: ctx, cwd: dir }));
    expect(refused).toEqual({ proceed: false, status: 3, text: "Canceled by the On Backup Startup hook (returned 3): maintenance.lock is present: no backup during maintenance" });

    const shutdownBody = examples.find(([f]) => f.endsWith("onBackupShutdown.mjs.example"))![1];
    await plant("onBackupShutdown.mjs", shutdownBody, 0o644);
    const shutdown = (await findHook(hooksDir, "onBackupShutdown"))!;
    const done = await runHook(shutdown, {
      env: hookEnv({ backupNumber: 12, trigger: { kind: "scheduler", user: null }, status: 1406, databaseDir: dir, databaseName: "Demo", destination: "/b" }),
      cwd: dir,
    });
    expect(done).toMatchObject({ exitCode: 0, output: ["Backup #12 ended with status 1406: Backup canceled by user"] });
  });
});
