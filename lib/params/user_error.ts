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
