// One error type for everything the launcher can hit; `fix` is the sentence a user needs next.
export type StackErrorCode =
  | 'port_taken'
  | 'java_missing'
  | 'download_failed'
  | 'checksum_mismatch'
  | 'service_failed'
  | 'not_ready'
  | 'docker_unavailable'
  | 'missing_tool'
  | 'bad_config';

export class StackError extends Error {
  override name = 'StackError';
  readonly code: StackErrorCode;
  readonly fix: string;
  constructor(code: StackErrorCode, message: string, fix: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.fix = fix;
  }
  /** One line for the terminal: what went wrong, then how to fix it. */
  toUserString(): string {
    return `${this.message}\n  fix: ${this.fix}`;
  }
}
