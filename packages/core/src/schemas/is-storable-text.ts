/**
 * Whether PostgreSQL stores a string exactly as JavaScript holds it: well-formed UTF-16 (a lone
 * surrogate would become U+FFFD in UTF-8, so two different ids could collapse into one) and no U+0000
 * (refused by text and jsonb, failing the whole batch the string travels in). Both checks are native
 * scans, so this costs next to nothing on the hot path.
 */
export function isStorableText(text: string): boolean {
  return text.isWellFormed() && !text.includes('\0');
}
