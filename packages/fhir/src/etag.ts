// Versioning helpers: weak ETags carrying meta.versionId, and If-Match parsing (FHIR R4 http.html#versioning).
import { PreconditionFailed } from './errors.ts';

export function etag(versionId: string | number): string {
  return `W/"${versionId}"`;
}

/** The version named by an If-Match header, or undefined when there is none. Accepts W/"3", "3" and 3. */
export function parseIfMatch(header: string | undefined | null): string | undefined {
  if (header === undefined || header === null || header.trim() === '') return undefined;
  const m = /^\s*(?:W\/)?"?([^"\s]+)"?\s*$/.exec(header);
  return m?.[1];
}

/** Throws 412 unless If-Match names the current version; SPEC §5 makes a missing If-Match a 412 too. */
export function requireIfMatch(header: string | undefined | null, currentVersion: string | number): void {
  const wanted = parseIfMatch(header);
  if (wanted === undefined) {
    throw new PreconditionFailed(
      `This update needs an If-Match header naming the version you edited (current is ${etag(currentVersion)})`,
    );
  }
  if (wanted !== String(currentVersion)) {
    throw new PreconditionFailed(
      `If-Match ${etag(wanted)} does not match the current version ${etag(currentVersion)}; read the resource again and reapply your change`,
    );
  }
}
