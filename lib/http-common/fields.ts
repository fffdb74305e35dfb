// Header field values shared by the HTTP stack and the WebSocket handshake: how repeated fields are combined
// into one value, and how a comma-separated list value is split. RFC 9110 §5.3 (field order and combination),
// §5.6.1 (lists), RFC 6265 §5.4 (Cookie joined with "; ").

/**
 * The value of a field seen again: "a, b" for any list field, "a; b" for Cookie (RFC 9110 §5.3 allows
 * combining only with commas; cookies contain commas, so RFC 6265 §5.4 joins them with "; ").
 * `name` is lower-case. Hot path: the raw parser calls this for every repeated header.
 */
export function joinFieldValues(name: string, existing: string, value: string): string {
  return existing + fieldValueSeparator(name) + value;
}

/** What goes between the values of a repeated field `name` (lower-case): "; " for Cookie, ", " for every other. */
export function fieldValueSeparator(name: string): string {
  return name === 'cookie' ? '; ' : ', ';
}

/**
 * The trimmed, non-empty members of a comma-separated list ("close, , Upgrade" → ["close", "Upgrade"]), case kept;
 * split on commas, no regular expression on attacker input. Empty members are allowed by §5.6.1 and ignored.
 */
export function listMembers(value: string): string[] {
  const members: string[] = [];
  for (const part of value.split(',')) {
    const member = part.trim();
    if (member.length > 0) members.push(member);
  }
  return members;
}
