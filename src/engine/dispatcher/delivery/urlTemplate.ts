/**
 * Hasura's webhook URL templates: `{{NAME}}` placeholders filled from the
 * environment (`{{ACTION_BASE_URL}}/order`). Definitions keep the template,
 * never the filled-in URL: a variable may hold a secret, and definitions are
 * stored in the database and shown by the admin API. The dispatcher fills it
 * in for each attempt, and routing validates it without the environment.
 */

/** An environment variable's name; anything else between `{{ }}` is refused, not looked up. */
const PLACEHOLDER = /\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}/g;
const HTTP_URL = /^https?:\/\/./;

export function templateVariables(url: string): string[] {
  return [...url.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/**
 * Why the URL (template or not) could never be delivered to, or undefined.
 * A placeholder at the very start stands for a whole base URL (Hasura's usual
 * `{{BASE_URL}}/path`); elsewhere for a part of one (`https://{{HOST}}/x`).
 */
export function urlTemplateProblem(url: string): string | undefined {
  const filled = url.replace(PLACEHOLDER, (_m, _name: string, offset: number) => (offset === 0 ? 'http://placeholder' : 'placeholder'));
  if (filled.includes('{{')) return 'has a malformed {{…}} placeholder (expected {{ENV_VARIABLE}})';
  if (!HTTP_URL.test(filled)) return 'must be an http(s) URL';
  return undefined;
}

/**
 * The URL with every placeholder filled from `env`, or the first variable that
 * is unset (or empty, as for webhookFromEnv). Never returns a partly filled URL.
 */
export function renderUrlTemplate(url: string, env: Readonly<Record<string, string | undefined>>): { url: string } | { missing: string } {
  // Most URLs are plain: skip the scan on the delivery path.
  if (!url.includes('{{')) return { url };
  for (const name of templateVariables(url)) {
    if (!env[name]) return { missing: name };
  }
  return { url: url.replace(PLACEHOLDER, (_m, name: string) => env[name]!) };
}
