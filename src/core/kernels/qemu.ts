// QEMU itself: which binary, which accelerator, the command line, and the private folders VMs keep their initramfs
// and console log in (removed when the VM ends, and by the next run when a SIGKILLed process could not).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { removeDeadOwnersDirs } from '../staleDirs';

export type VmAccel = 'auto' | 'kvm' | 'tcg';

export function qemuBinary(explicit?: string): string {
  return explicit ?? process.env.CILIUM_CUSTOM_QEMU ?? 'qemu-system-x86_64';
}

export function qemuMissingMessage(qemu: string): string {
  return `QEMU is not installed (${qemu} not found): the kernel VMs need it. Install it: apt-get install qemu-system-x86`;
}

/** Set once KVM failed to start a VM in this process: later VMs go straight to TCG. */
let kvmBroken = false;

export function markKvmBroken(): void {
  kvmBroken = true;
}

export function kvmUsable(): boolean {
  if (kvmBroken) return false;
  try {
    fs.accessSync('/dev/kvm', fs.constants.R_OK | fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The accelerator asked for: the option, else $CILIUM_CUSTOM_VM_ACCEL, else auto. */
export function requestedAccel(accel?: VmAccel): VmAccel {
  return accel ?? (process.env.CILIUM_CUSTOM_VM_ACCEL as VmAccel | undefined) ?? 'auto';
}

let setprivPath: string | null | undefined;
/** setpriv, to give QEMU a parent-death signal: it dies with the process that started it, even on SIGKILL. */
export function setpriv(): string | null {
  if (setprivPath === undefined) setprivPath = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => fs.existsSync(p)) ?? null;
  return setprivPath;
}

/** The QEMU command line: no devices but two serial ports, the kernel and the initramfs. */
export function qemuArgv(qemu: string, accel: 'kvm' | 'tcg', vmlinuz: string, initrd: string, consoleFile: string, memoryMb: number): string[] {
  return [
    qemu,
    '-accel', accel,
    ...(accel === 'kvm' ? ['-cpu', 'host'] : []),
    '-m', String(memoryMb),
    '-smp', '1',
    '-nographic',
    '-nodefaults',
    '-no-reboot',
    '-monitor', 'none',
    '-serial', `file:${consoleFile}`,
    '-serial', 'stdio',
    '-kernel', vmlinuz,
    '-initrd', initrd,
    '-append', 'console=ttyS0 quiet panic=-1 oops=panic rdinit=/init',
  ];
}

/** How long a kernel may take to reach /init: the option, else $CILIUM_CUSTOM_VM_BOOT_TIMEOUT seconds, else 90 s (TCG on a busy machine). */
export function bootTimeoutMs(explicit?: number): number {
  const fromEnv = Number(process.env.CILIUM_CUSTOM_VM_BOOT_TIMEOUT);
  return explicit ?? (Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv * 1000 : 90_000);
}

/** The temporary folders of VMs: cilium-custom-vm-<pid>-<random> under the system's temp dir. */
export const VM_DIR_PREFIX = 'cilium-custom-vm-';

export function makeVmDir(): string {
  // Folders of VMs whose process was killed outright (SIGKILL leaves no chance to clean up).
  removeDeadOwnersDirs(os.tmpdir(), VM_DIR_PREFIX);
  return fs.mkdtempSync(path.join(os.tmpdir(), `${VM_DIR_PREFIX}${process.pid}-`));
}

/** The last meaningful line of a console log (a panic message, usually). */
export function consoleTail(file: string): string {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const buffer = Buffer.alloc(Math.min(size, 8192));
      fs.readSync(fd, buffer, 0, buffer.length, size - buffer.length);
      const lines = buffer
        .toString('latin1')
        // Firmware and the kernel clear the screen with escape sequences (ESC c, ESC [2J, ...).
        .replace(/\x1b(?:\[[0-9;?]*[A-Za-z]|[A-Za-z])/g, '')
        .split(/\r?\n/)
        .map((l) => l.replace(/[\x00-\x08\x0b-\x1f\x7f-\xff]/g, '').trim())
        .filter(Boolean);
      const panic = lines.find((l) => /Kernel panic|not syncing/.test(l));
      return (panic ?? lines.at(-1) ?? '').slice(0, 300);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}
