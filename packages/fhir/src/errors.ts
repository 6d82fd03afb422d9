// One error type per failure case, each with a stable code and HTTP status; turned into an OperationOutcome in one place.
import type { OperationOutcome, OperationOutcomeIssue } from './types.ts';

/** FHIR issue-type codes (http://hl7.org/fhir/issue-type) used by Samsyn. */
export type IssueType =
  | 'invalid'
  | 'structure'
  | 'required'
  | 'value'
  | 'invariant'
  | 'security'
  | 'login'
  | 'forbidden'
  | 'processing'
  | 'not-supported'
  | 'duplicate'
  | 'not-found'
  | 'conflict'
  | 'business-rule'
  | 'exception'
  | 'transient'
  | 'timeout'
  | 'too-costly';

export interface FhirErrorDetail {
  diagnostics: string;
  expression?: string[];
  code?: IssueType;
}

export class FhirError extends Error {
  readonly status: number;
  readonly issueType: IssueType;
  /** Stable machine-readable code, e.g. `invalid-personnummer`; travels as `issue.details.coding`. */
  readonly errorCode: string;
  readonly details: FhirErrorDetail[];

  constructor(status: number, issueType: IssueType, errorCode: string, details: FhirErrorDetail[] | string) {
    const list = typeof details === 'string' ? [{ diagnostics: details }] : details;
    super(list.map((d) => d.diagnostics).join('; '));
    this.name = new.target.name;
    this.status = status;
    this.issueType = issueType;
    this.errorCode = errorCode;
    this.details = list;
  }

  toOperationOutcome(): OperationOutcome {
    return operationOutcome(
      this.details.map((d) => ({
        severity: this.status >= 500 ? 'fatal' : 'error',
        code: d.code ?? this.issueType,
        details: {
          coding: [{ system: 'https://samsyn.se/fhir/CodeSystem/error', code: this.errorCode }],
          text: d.diagnostics,
        },
        diagnostics: d.diagnostics,
        ...(d.expression ? { expression: d.expression } : {}),
      })),
    );
  }
}

/** 400: the request is malformed or a value is wrong; the diagnostics say what to fix. */
export class InvalidRequest extends FhirError {
  constructor(errorCode: string, details: FhirErrorDetail[] | string) {
    super(400, 'invalid', errorCode, details);
  }
}

/** 401: no bearer token, or one that does not verify. */
export class Unauthenticated extends FhirError {
  constructor(diagnostics: string) {
    super(401, 'login', 'unauthenticated', diagnostics);
  }
}

/** 403: authenticated, but the token's scopes do not allow this interaction. */
export class Forbidden extends FhirError {
  constructor(diagnostics: string) {
    super(403, 'forbidden', 'forbidden', diagnostics);
  }
}

/** 404: missing, or not visible to the caller (SPEC §7: a denied read answers like a missing one). */
export class NotFound extends FhirError {
  constructor(resourceType: string, id: string) {
    super(404, 'not-found', 'not-found', `${resourceType}/${id} is not known`);
  }
}

/** 404 for an unsupported resource type or path. */
export class UnknownRoute extends FhirError {
  constructor(path: string) {
    super(404, 'not-supported', 'unknown-route', `No FHIR interaction is served at ${path}`);
  }
}

/** 405: the resource exists but does not support this interaction. */
export class MethodNotAllowed extends FhirError {
  constructor(diagnostics: string) {
    super(405, 'not-supported', 'method-not-allowed', diagnostics);
  }
}

/** 409: the interaction is not allowed in the current state (names the current state). */
export class StateConflict extends FhirError {
  constructor(errorCode: string, diagnostics: string) {
    super(409, 'conflict', errorCode, diagnostics);
  }
}

/** 412: If-Match is missing or does not name the current version. */
export class PreconditionFailed extends FhirError {
  constructor(diagnostics: string) {
    super(412, 'conflict', 'version-conflict', diagnostics);
  }
}

/** 415: the body is not FHIR JSON. */
export class UnsupportedMediaType extends FhirError {
  constructor(contentType: string | undefined) {
    super(
      415,
      'not-supported',
      'unsupported-media-type',
      `Content-Type ${contentType ?? '(none)'} is not supported; send application/fhir+json`,
    );
  }
}

/** 422: well-formed, but breaks a business rule (the law, the process). */
export class BusinessRuleViolation extends FhirError {
  constructor(errorCode: string, details: FhirErrorDetail[] | string) {
    super(422, 'business-rule', errorCode, details);
  }
}

/** 503: a dependency (database, broker) is not reachable right now; the client may retry. */
export class ServiceUnavailable extends FhirError {
  constructor(diagnostics: string) {
    super(503, 'transient', 'unavailable', diagnostics);
  }
}

export function operationOutcome(issue: OperationOutcomeIssue[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue };
}

/** The OperationOutcome for an error that is not a FhirError: no internals leak to the caller. */
export function internalErrorOutcome(traceId: string | undefined): OperationOutcome {
  return operationOutcome([
    {
      severity: 'fatal',
      code: 'exception',
      diagnostics: `An internal error occurred${traceId ? ` (trace id ${traceId})` : ''}; it has been logged`,
    },
  ]);
}
