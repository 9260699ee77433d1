// One error class for the whole service. Each capability owns its codes (in its own
// errors.ts, built with defineErrors); each surface renders them in its own wire format.

export interface ErrorDefinition {
  readonly code: string;
  readonly status: number;
  readonly message: string;
}

export interface ErrorOptions {
  /** The input field at fault, named in the response so the caller can fix it. */
  field?: string;
  /** Private detail for logs and audit only; never sent to the caller. */
  detail?: string;
  /** A more specific public message than the definition's. */
  message?: string;
  cause?: unknown;
  /** Extra response headers (e.g. Retry-After). */
  headers?: Record<string, string>;
}

export class GatehouseError extends Error {
  readonly code: string;
  readonly status: number;
  readonly field: string | undefined;
  readonly detail: string | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(definition: ErrorDefinition, options: ErrorOptions = {}) {
    super(
      options.message ?? definition.message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'GatehouseError';
    this.code = definition.code;
    this.status = definition.status;
    this.field = options.field;
    this.detail = options.detail;
    this.headers = options.headers;
  }
}

export type ErrorCatalog<K extends string> = { readonly [P in K]: ErrorDefinition } & {
  readonly [catalogOwner]: string;
};

export const catalogOwner = Symbol('catalogOwner');

/** Declares a capability's error codes; the owner names it in docs/errors.md. */
export function defineErrors<K extends string>(
  owner: string,
  definitions: { readonly [P in K]: ErrorDefinition },
): ErrorCatalog<K> {
  return Object.freeze({ ...definitions, [catalogOwner]: owner }) as ErrorCatalog<K>;
}

export function listCatalog(catalog: ErrorCatalog<string>): {
  owner: string;
  definitions: ErrorDefinition[];
} {
  return { owner: catalog[catalogOwner], definitions: Object.values(catalog) as ErrorDefinition[] };
}

export function isGatehouseError(error: unknown): error is GatehouseError {
  return error instanceof GatehouseError;
}

/** Errors every surface can raise, independent of capability. */
export const commonErrors = defineErrors('common', {
  invalidRequest: { code: 'invalid_request', status: 400, message: 'The request is not valid.' },
  notFound: { code: 'not_found', status: 404, message: 'No such resource.' },
  conflict: { code: 'conflict', status: 409, message: 'The resource already exists.' },
  payloadTooLarge: { code: 'payload_too_large', status: 413, message: 'The request body is too large.' },
  unsupportedMediaType: {
    code: 'unsupported_media_type',
    status: 415,
    message: 'The request body has an unsupported content type.',
  },
  rateLimited: { code: 'rate_limited', status: 429, message: 'Too many requests; retry later.' },
  internal: { code: 'internal_error', status: 500, message: 'Something went wrong on our side.' },
  databaseUnavailable: {
    code: 'database_unavailable',
    status: 503,
    message: 'The database is unreachable; retry shortly.',
  },
});
