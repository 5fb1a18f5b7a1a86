/** Response bodies and errors are stored and logged truncated, and free of NUL (which text columns refuse). */
export const MAX_STORED_CHARS = 2048;

export function truncateText(text: string, max = MAX_STORED_CHARS): string {
  const clean = text.replaceAll('\u0000', '');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
