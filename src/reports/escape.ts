/** Text and attribute values for HTML, SVG and XML: the five characters that can break out of either. */
export function escapeXml(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] ?? ch);
}

/**
 * XML 1.0 forbids most control characters even when escaped (a JUnit parser rejects the whole file), and an
 * error message may carry them (ANSI colours from a child process): drop them.
 */
export function escapeXmlText(s: unknown): string {
  // eslint-disable-next-line no-control-regex -- the point is to remove control characters
  return escapeXml(String(s).replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, ''));
}
