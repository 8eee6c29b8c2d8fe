import { LabError } from '../lib/errors';

/**
 * An error the REST layer turns into Confluent's `{error_code, message}` with this HTTP status. The codes are
 * Confluent's (rest/exceptions/Errors.java, 7.7): clients such as @kafkajs/confluent-schema-registry branch on them.
 */
export class RegistryError extends LabError {
  constructor(
    readonly status: number,
    readonly errorCode: number,
    message: string,
    opts: { cause?: unknown } = {},
  ) {
    super(message, opts);
  }
}

export const subjectNotFound = (s: string) =>
  new RegistryError(404, 40401, `Subject '${s}' not found.`);
export const versionNotFound = (v: string | number) =>
  new RegistryError(404, 40402, `Version ${v} not found.`);
export const schemaNotFound = (id?: number) =>
  new RegistryError(404, 40403, id === undefined ? 'Schema not found' : `Schema ${id} not found`);
export const subjectSoftDeleted = (s: string) =>
  new RegistryError(
    404,
    40404,
    `Subject '${s}' was soft deleted. Set permanent=true to delete permanently`,
  );
export const subjectNotSoftDeleted = (s: string) =>
  new RegistryError(
    404,
    40405,
    `Subject '${s}' was not deleted first before being permanently deleted`,
  );
export const versionSoftDeleted = (s: string, v: number) =>
  new RegistryError(
    404,
    40406,
    `Subject '${s}' Version ${v} was soft deleted. Set permanent=true to delete permanently`,
  );
export const versionNotSoftDeleted = (s: string, v: number) =>
  new RegistryError(
    404,
    40407,
    `Subject '${s}' Version ${v} was not deleted first before being permanently deleted`,
  );
export const subjectConfigNotFound = (s: string) =>
  new RegistryError(
    404,
    40408,
    `Subject '${s}' does not have subject-level compatibility configured`,
  );
export const invalidVersion = (v: string) =>
  new RegistryError(
    422,
    42202,
    `The specified version '${v}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`,
  );
/** Confluent 7.7 answers error_code 409 (40901 only from 2025 on); the lab and its clients check the HTTP status. */
export const incompatible = (s: string, level: string, problems: string[]) =>
  new RegistryError(
    409,
    409,
    `Schema being registered is incompatible with an earlier schema for subject "${s}" (compatibility ${level}): ${problems.join('; ')}`,
  );
