/**
 * Placeholder entry point so the construct can bundle; the termination handler (issue 3) replaces it.
 */
export function handler(): Promise<never> {
  return Promise.reject(new Error('the termination handler is not implemented yet'));
}
