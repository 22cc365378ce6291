/** Moved to local/ (shipped for `swf-terminator demo`); kept here for the tests' imports. */
export * from '../../local/server';
