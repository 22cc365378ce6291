/**
 * The job state's format: its version and the bounds the writer (lambda/job/write.ts) keeps and the reader
 * (lambda/parse/job-state.ts) checks.
 */

/**
 * The job state's version. 2: cancelThenTerminate's two steps in one job (`asked`), a policy's job carries
 * its policy. A chunk refuses any other version: a job started by another version fails at its next chunk,
 * loudly (JobFailed), rather than run under rules it was not accepted under.
 */
export const JOB_STATE_VERSION = 2;

/** Failures a job lists by name (the count in its totals is always exact). */
export const JOB_FAILURES_LISTED_MAX = 50;

/** The longest summary a job's state carries (a failed job's summary is its Fail state's cause). */
export const JOB_SUMMARY_MAX = 4096;
