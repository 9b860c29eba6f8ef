// Is a directory on the target a bpffs? Asked with `stat -f`, by the magic number: busybox's stat (Alpine nodes)
// prints UNKNOWN for the bpffs type name that GNU stat calls bpf_fs, but both print the hex magic.

/** BPF_FS_MAGIC from linux/magic.h, as `stat -f -c %t` prints it. */
export const BPFFS_MAGIC_HEX = 'cafe4a11';

/** `stat -f` printing "<hex magic> <type name>" for `dir`. */
export function statFsArgv(dir: string): string[] {
  return ['stat', '-f', '-c', '%t %T', '--', dir];
}

/** From statFsArgv's output: whether it is a bpffs, and the type name to show when it is not. */
export function readStatFs(stdout: string): { isBpffs: boolean; typeName: string } {
  const [magic = '', ...name] = stdout.trim().split(' ');
  return { isBpffs: magic === BPFFS_MAGIC_HEX, typeName: name.join(' ') || magic };
}

/** The message and fix for a target whose bpffs root is not a bpffs; `detail` says what is there instead. */
export function bpffsNotMounted(target: { name: string; isRemote: boolean; bpffsRoot: string }, detail?: string): { message: string; fix: string } {
  const where = target.isRemote ? ` on ${target.name}` : '';
  return {
    message: `bpffs is not mounted at ${target.bpffsRoot}${where}${detail ? ` (${detail})` : ''}.`,
    fix: `Mount it (as root): mount -t bpf bpf ${target.bpffsRoot}`,
  };
}
