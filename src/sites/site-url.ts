const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443' };

/**
 * The one spelling of a site's URL, so the same site cannot be registered twice:
 * scheme and host lower-case, default port, trailing slashes, query and fragment dropped.
 * Returns null for anything that is not an absolute http(s) URL without credentials.
 */
export function normalizeSiteUrl(input: string): string | null {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    return null;
  }
  if (!(url.protocol in DEFAULT_PORTS) || url.hostname === '' || url.username !== '' || url.password !== '') return null;
  const port = url.port === '' || url.port === DEFAULT_PORTS[url.protocol] ? '' : `:${url.port}`;
  const path = url.pathname.replace(/\/+$/, '');
  // URL already lower-cases the scheme and host and punycodes international names.
  return `${url.protocol}//${url.hostname}${port}${path}`;
}
