/**
 * An exclusive lock on a run folder: `<dir>/.lock` created with O_EXCL, holding the owner's pid, host and
 * process start time. A second writer is refused while the owner lives; a lock whose owner is gone (killed,
 * crashed) is stale and taken over with a warning. The process start time (Linux /proc) tells a reused pid
 * from the original owner.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../params/user_error.js';
import { checkOutputDir } from './output_path.js';

export const LOCK_FILE = '.lock';

interface LockRecord {
  pid: number;
  host: string;
  procStart?: string;
  command: string;
  since: string;
}

/** Field 22 (starttime, clock ticks since boot) of /proc/<pid>/stat; undefined off Linux or if gone. */
function procStart(pid: number): string | undefined {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // alive, owned by another user
  }
}

/** Whether the recorded owner still runs (another host cannot be checked: assumed live). */
function ownerAlive(r: LockRecord): boolean {
  if (r.host !== os.hostname()) return true;
  if (!Number.isInteger(r.pid) || r.pid <= 0 || !pidAlive(r.pid)) return false;
  const start = procStart(r.pid);
  return !(r.procStart && start && start !== r.procStart);
}

function readRecord(file: string): LockRecord | undefined {
  try {
    const r = JSON.parse(fs.readFileSync(file, 'utf8')) as LockRecord;
    return typeof r === 'object' && r !== null && typeof r.pid === 'number' ? r : undefined;
  } catch {
    return undefined; // torn or empty: the owner died while writing it
  }
}

export class RunLock {
  private released = false;
  private readonly onExit = () => this.release();

  private constructor(readonly file: string) {
    process.once('exit', this.onExit);
  }

  /**
   * Takes the lock of `dir` (created if needed) or throws a UserError naming the live owner. `what` names
   * the folder in messages (e.g. '--output-dir').
   */
  static acquire(dir: string, what = 'run folder'): RunLock {
    checkOutputDir(dir, what);
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, LOCK_FILE);
    const me: LockRecord = {
      pid: process.pid,
      host: os.hostname(),
      procStart: procStart(process.pid),
      command: process.argv.slice(1).join(' '),
      since: new Date().toISOString(),
    };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = fs.openSync(file, 'wx');
        try {
          fs.writeSync(fd, JSON.stringify(me) + '\n');
          fs.fsyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
        return new RunLock(file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
          throw new UserError(`cannot lock ${what} ${dir}: ${(e as Error).message}`);
      }
      const owner = readRecord(file);
      if (owner && ownerAlive(owner)) {
        const who = owner.pid === process.pid ? 'this process' : `pid ${owner.pid} on ${owner.host}`;
        throw new UserError(
          `${what} ${dir} is in use by a live run (${who}, since ${owner.since}); wait for it to finish, stop it, ` +
            `or use another folder (if that run is over, delete ${file})`,
        );
      }
      console.warn(
        `warning: ${file} was left by a run that is gone (${owner ? `pid ${owner.pid}, since ${owner.since}` : 'unreadable'}); taking it over`,
      );
      fs.rmSync(file, { force: true });
    }
    throw new UserError(`cannot lock ${what} ${dir}: another process keeps taking ${file}`);
  }

  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    process.removeListener('exit', this.onExit);
    const r = readRecord(this.file);
    if (r?.pid === process.pid) fs.rmSync(this.file, { force: true });
  }
}
