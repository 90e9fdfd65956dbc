/**
 * An error caused by the user's input (a bad flag, a missing file, a malformed dataset).
 * The CLI prints its message without a stack trace and exits with code 2.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

export const isUserError = (e: unknown): e is UserError => e instanceof Error && e.name === 'UserError';

const FS_REASONS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'it is a folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EEXIST: 'it already exists',
  EMFILE: 'too many open files',
};

/**
 * A file-system error about a path the user chose (a folder that is a file, a full disk, no permission) as
 * one line: `cannot mkdir 'runs/x': a part of the path is a file, not a folder`. Undefined for anything else.
 */
export function fileSystemMessage(e: unknown): string | undefined {
  const x = e as NodeJS.ErrnoException & { dest?: string };
  if (!(e instanceof Error) || !x.code || !(x.code in FS_REASONS) || (!x.path && !x.syscall)) return undefined;
  const what = x.path ? ` '${x.path}'${x.dest ? ` → '${x.dest}'` : ''}` : '';
  return `cannot ${x.syscall ?? 'access'}${what}: ${FS_REASONS[x.code]}`;
}
