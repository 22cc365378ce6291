/** Moved to local/ (shipped for `swf-terminator demo`); kept here for the tests' imports. */
import '../../local/promise-with-resolvers';
