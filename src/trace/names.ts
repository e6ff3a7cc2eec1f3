/**
 * Name rules for systems, events and fields, as the kernel applies them to dynamic events (is_good_name): a letter
 * or underscore, then letters, digits and underscores; at most 64 bytes (MAX_EVENT_NAME_LEN).
 */
export const MAX_NAME_LENGTH = 64;
const GOOD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isGoodName(name: unknown): name is string {
  return typeof name === 'string' && name.length <= MAX_NAME_LENGTH && GOOD_NAME.test(name);
}

/** Field names additionally may not shadow the common fields every record has. */
export function isGoodFieldName(name: unknown): name is string {
  return isGoodName(name) && !name.startsWith('common_');
}
