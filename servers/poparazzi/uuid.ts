// UUIDs as the Poparazzi stream uses them: session tokens, user ids and post ids (RFC 9562 §4 text form).
// They are case-insensitive, so every id is stored in one case (lower) and compared in that form.

/** 8-4-4-4-12 hexadecimal digits; any version, any variant (the service's ids are not all v4). */
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && value.length === 36 && UUID_PATTERN.test(value);
}

/** The stored form of a UUID: lower case. Undefined when `value` is not a UUID. */
export function normalizeUuid(value: unknown): string | undefined {
  return isUuid(value) ? value.toLowerCase() : undefined;
}
