// Places on the server that no backup destination, restore folder or attachment may be: the operating system's
// own folders, and the kernel's virtual file systems. One list, used by the settings checks and the restore.
import path from "node:path";

/** Trees that belong to the operating system or are virtual file systems: nothing at any depth inside is ours. */
const OS_TREES = ["/bin", "/boot", "/dev", "/etc", "/proc", "/run", "/sbin", "/sys", "/usr"];
/** The kernel's virtual file systems: their "files" are the running system's state (a process's environment, with
 * its secrets, in /proc/self/environ), devices that never end (/dev/zero), or switches (/sys). */
const VIRTUAL_TREES = ["/proc", "/sys", "/dev"];

const topOf = (p: string) => "/" + p.split("/")[1];

/**
 * Why `p` (absolute, normalised) is a system folder where the server must not write, or null:
 *   - `/`, every folder directly under `/` (`/var`, `/home`, `/root`, `/tmp`, `/srv`…) and directly under `/var`
 *     (`/var/lib`, `/var/tmp`, `/var/log`…): each holds things the system or other users rely on;
 *   - anything at any depth inside the operating system's own trees: /bin /boot /dev /etc /lib* /proc /run /sbin
 *     /sys /usr.
 * Deeper folders elsewhere are ordinary places: `/var/tmp/x`, `/root/restores`, `/srv/backups`.
 */
export function systemFolderProblem(p: string): string | null {
  if (p === "/") return "is the root of the file system";
  const top = topOf(p);
  if (OS_TREES.includes(top) || /^\/lib/.test(top)) {
    return p === top ? `is the system folder ${top}` : `is inside the system folder ${top}`;
  }
  if (path.dirname(p) === "/") return `is the top-level folder ${p}, which the system or other users rely on`;
  if (path.dirname(p) === "/var") return `is the system folder ${p}`;
  return null;
}

/** Why `p` (absolute, normalised) lies in a virtual file system (/proc, /sys, /dev), or null. */
export function virtualFolderProblem(p: string): string | null {
  const top = topOf(p);
  if (!VIRTUAL_TREES.includes(top)) return null;
  const what = top === "/proc" ? "the kernel's view of the running processes (their environment holds secrets)"
    : top === "/sys" ? "the kernel's settings and devices" : "the devices (some never end, like /dev/zero)";
  return `${p === top ? "is" : "is inside"} ${top}, ${what}: not files to back up`;
}
