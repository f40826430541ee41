// A separate process that uploads a file with uploadFile and can be killed mid-upload (SIGKILL, as a crash of the
// server would). It says on stdout what has happened, so the test kills it at a known point:
//   PART n          part n is in the bucket and recorded in console.sqlite
//   SERVER-HAS n    part `holdAfter` reached the server, and its answer is withheld (so it is not recorded)
// Parts after `holdAfter` are never sent: the process waits there until it is killed.
// Config: JSON in the environment variable UPLOAD_CHILD (destination with its secret, paths, part size).
import { openConsoleDb } from "../../server/console/console-db";
import { uploadFile } from "../../server/offsite/multipart-upload";
import { makeS3Client, type S3Destination } from "../../server/offsite/s3-client";

const cfg = JSON.parse(process.env.UPLOAD_CHILD!) as {
  dest: S3Destination; consoleDb: string; file: string; key: string; partBytes: number; holdAfter: number; masterKey?: string;
};
const client = makeS3Client(cfg.dest);
// A promise alone doesn't keep a process alive: without the timer, once its sockets close the process would end by
// itself before the test kills it.
const never = new Promise<never>(() => setInterval(() => undefined, 60_000));
client.middlewareStack.add((next) => async (args) => {
  const part = (args.input as { PartNumber?: number }).PartNumber;
  if (part !== undefined && part > cfg.holdAfter) await never;
  const result = await next(args);
  if (part === cfg.holdAfter) {
    console.log(`SERVER-HAS ${part}`);
    await never;
  }
  return result;
}, { step: "initialize", name: "holdParts" });

await uploadFile({
  bucket: { client, dest: cfg.dest }, db: openConsoleDb(cfg.consoleDb), key: cfg.key, file: cfg.file, partBytes: cfg.partBytes, concurrency: 2,
  masterKey: cfg.masterKey ? Buffer.from(cfg.masterKey, "hex") : null,
  onPart: (n) => console.log(`PART ${n}`),
});
console.log("DONE");
