/** Job ids: a job is a Step Functions execution named by its id, so a job id follows the execution-name rule. */

/**
 * Step Functions' rule for an execution name (a job id): 1-80 characters, no whitespace, none of
 * `< > { } [ ] ? * " # % \ ^ | ~ \` $ & , ; : /`, no control characters.
 */
// eslint-disable-next-line no-control-regex -- control characters are what it refuses
const EXECUTION_NAME = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/;

/** True when `id` can name an execution (a job). */
export function isValidJobId(id: string): boolean {
  return EXECUTION_NAME.test(id);
}
