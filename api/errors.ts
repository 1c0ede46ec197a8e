/**
 * Typed API errors. One class per Kubernetes `Status.reason`, mapped once to HTTP status codes
 * (REST facade) and gRPC codes (gRPC API); the wire form is always a Kubernetes `Status` object.
 */
export interface StatusCause {
  readonly reason?: string;
  readonly message: string;
  readonly field?: string;
}

export interface StatusDetails {
  readonly name?: string;
  readonly group?: string;
  readonly kind?: string;
  readonly causes?: readonly StatusCause[];
  readonly retryAfterSeconds?: number;
}

/** A Kubernetes `Status` with status=Failure. */
export interface FailureStatus {
  readonly kind: 'Status';
  readonly apiVersion: 'v1';
  readonly metadata: Record<string, never>;
  readonly status: 'Failure';
  readonly message: string;
  readonly reason: string;
  readonly details?: StatusDetails;
  readonly code: number;
}

export type Reason =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'BadRequest'
  | 'Forbidden'
  | 'Unauthorized'
  | 'Gone'
  | 'Expired'
  | 'MethodNotAllowed'
  | 'UnsupportedMediaType'
  | 'RequestEntityTooLarge'
  | 'TooManyRequests'
  | 'ServiceUnavailable'
  | 'Timeout'
  | 'InternalError';

const HTTP_CODES: Record<Reason, number> = {
  NotFound: 404,
  AlreadyExists: 409,
  Conflict: 409,
  Invalid: 422,
  BadRequest: 400,
  Forbidden: 403,
  Unauthorized: 401,
  Gone: 410,
  Expired: 410,
  MethodNotAllowed: 405,
  UnsupportedMediaType: 415,
  RequestEntityTooLarge: 413,
  TooManyRequests: 429,
  ServiceUnavailable: 503,
  Timeout: 504,
  InternalError: 500,
};

/** gRPC status codes (numeric, as @grpc/grpc-js `status`). */
const GRPC_CODES: Record<Reason, number> = {
  NotFound: 5,
  AlreadyExists: 6,
  Conflict: 10, // ABORTED
  Invalid: 3, // INVALID_ARGUMENT
  BadRequest: 3,
  Forbidden: 7,
  Unauthorized: 16, // UNAUTHENTICATED
  Gone: 9, // FAILED_PRECONDITION: "expired/gone"
  Expired: 9,
  MethodNotAllowed: 12,
  UnsupportedMediaType: 3,
  RequestEntityTooLarge: 8, // RESOURCE_EXHAUSTED
  TooManyRequests: 8,
  ServiceUnavailable: 14,
  Timeout: 4,
  InternalError: 13,
};

/** Thrown for every failed API call; carries the Kubernetes Status the server sent. */
export class ApiError extends Error {
  readonly reason: Reason;
  readonly code: number;
  readonly details?: StatusDetails;

  constructor(reason: Reason, message: string, details?: StatusDetails) {
    super(message);
    this.name = `${reason}Error`;
    this.reason = reason;
    this.code = HTTP_CODES[reason];
    this.details = details;
  }

  get grpcCode(): number {
    return GRPC_CODES[this.reason];
  }

  toStatus(): FailureStatus {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }

  static fromStatus(s: { reason?: string; message?: string; details?: StatusDetails }): ApiError {
    const reason = (s.reason && s.reason in HTTP_CODES ? s.reason : 'InternalError') as Reason;
    return new ApiError(reason, s.message ?? reason, s.details);
  }
}

export function notFound(resource: string, name: string, group = ''): ApiError {
  const qualified = group ? `${resource}.${group}` : resource;
  return new ApiError('NotFound', `${qualified} "${name}" not found`, { name, group, kind: resource });
}

export function alreadyExists(resource: string, name: string, group = ''): ApiError {
  const qualified = group ? `${resource}.${group}` : resource;
  return new ApiError('AlreadyExists', `${qualified} "${name}" already exists`, { name, group, kind: resource });
}

export function conflict(resource: string, name: string, why: string, group = ''): ApiError {
  const qualified = group ? `${resource}.${group}` : resource;
  return new ApiError(
    'Conflict',
    `Operation cannot be fulfilled on ${qualified} "${name}": ${why}`,
    { name, group, kind: resource },
  );
}

/**
 * Why pods/binding refused a binding for good: the pod is no longer the one the scheduler decided for.
 * Carried as the Conflict's cause reason, so a client classifies it without reading the message.
 */
export type BindingRefusal = 'PodUIDMismatch' | 'PodAlreadyAssigned' | 'PodBeingDeleted';

const BINDING_REFUSALS: ReadonlySet<string> = new Set<BindingRefusal>(['PodUIDMismatch', 'PodAlreadyAssigned', 'PodBeingDeleted']);

/** A Conflict refusing a pod's binding, typed by `refusal`. */
export function bindingRefused(name: string, refusal: BindingRefusal, why: string): ApiError {
  const { message, details } = conflict('pods', name, why);
  return new ApiError('Conflict', message, { ...details, causes: [{ reason: refusal, message: why }] });
}

/** The refusal a failed binding carries, or undefined when the failure may pass on a retry. */
export function bindingRefusal(err: unknown): BindingRefusal | undefined {
  if (!(err instanceof ApiError) || err.reason !== 'Conflict') return undefined;
  const reason = err.details?.causes?.find((c) => c.reason !== undefined && BINDING_REFUSALS.has(c.reason))?.reason;
  return reason as BindingRefusal | undefined;
}

/** A 422: `causes` name each offending field path and the reason. */
export function invalid(kind: string, name: string, causes: readonly StatusCause[], group = ''): ApiError {
  const list = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const summary = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
  return new ApiError('Invalid', `${kind}${group ? '.' + group : ''} "${name}" is invalid: ${summary}`, {
    name,
    group,
    kind,
    causes,
  });
}

export function badRequest(message: string): ApiError {
  return new ApiError('BadRequest', message);
}

export function gone(message: string): ApiError {
  return new ApiError('Expired', message);
}

export const isForbidden = (e: unknown): boolean => e instanceof ApiError && e.reason === 'Forbidden';
export const isUnauthorized = (e: unknown): boolean => e instanceof ApiError && e.reason === 'Unauthorized';
export const isNotFound = (e: unknown): boolean => e instanceof ApiError && e.reason === 'NotFound';
export const isAlreadyExists = (e: unknown): boolean => e instanceof ApiError && e.reason === 'AlreadyExists';
export const isConflict = (e: unknown): boolean => e instanceof ApiError && e.reason === 'Conflict';
export const isInvalid = (e: unknown): boolean => e instanceof ApiError && e.reason === 'Invalid';
export const isGone = (e: unknown): boolean => e instanceof ApiError && (e.reason === 'Gone' || e.reason === 'Expired');
export const isUnavailable = (e: unknown): boolean => e instanceof ApiError && e.reason === 'ServiceUnavailable';

/** Thrown when a reconcile must not be retried (invalid spec): the runner records it and drops the key. */
export class TerminalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TerminalError';
  }
}
