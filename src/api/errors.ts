/**
 * API errors in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}` with an HTTP
 * status. `param` names the request field at fault (`temperature`, `messages[2].content`), or is
 * null when the request as a whole is.
 */

export type ApiErrorType = 'invalid_request_error' | 'rate_limit_error' | 'server_error';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly type: ApiErrorType = status === 429 ? 'rate_limit_error' : status >= 500 ? 'server_error' : 'invalid_request_error',
    /** Extra response headers (`Allow` for a 405, `Retry-After` for a 429). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The body's `error` object. */
  toJSON(): { message: string; type: ApiErrorType; param: string | null; code: string | null } {
    return { message: this.message, type: this.type, param: this.param, code: this.code };
  }
}

/** A field of the wrong JSON type: `temperature must be a number, not a string`. */
export function wrongType(param: string, expected: string, value: unknown): ApiError {
  return new ApiError(400, `${param} must be ${expected}, not ${describeJson(value)}`, param, 'invalid_type');
}

/** A field of the right type but outside what it may be. */
export function outOfRange(param: string, rule: string, value: unknown): ApiError {
  return new ApiError(400, `${param} must be ${rule}; it is ${shortJson(value)}`, param, 'invalid_value');
}

export function missing(param: string, what = ''): ApiError {
  return new ApiError(400, `${param} is required${what ? `: ${what}` : ''}`, param, 'missing_required_parameter');
}

/** "a string", "an array", "null", "a number (3.5)" — how a value reads in a message. */
export function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return `a string (${shortJson(value)})`;
    case 'number':
    case 'boolean':
      return `a ${typeof value} (${String(value)})`;
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

/** JSON text of `value`, cut to 40 characters: enough to recognise it, never a flood. */
function shortJson(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
