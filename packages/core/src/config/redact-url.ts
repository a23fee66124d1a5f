/**
 * A URL as it may appear in an error message or log line: any password is replaced, including in
 * text that does not parse as a URL (a config error is printed, and logs are read by more people
 * than the database password is meant for).
 */
export function redactUrl(text: string): string {
  // user:password@ in whatever form it came; parsing would miss the malformed URLs we report.
  return text.replace(/\/\/([^/@:\s]*):[^@/\s]*@/g, '//$1:***@');
}
