// Jest's globalSetup: see ./temp-dir.ts.
import { setup } from './temp-dir';

export default setup;
