/**
 * The cold-start benchmark's baseline: the bare SWF client and nothing else, bundled exactly like the
 * handler. The handler's module-load time is reported as a ratio of this one's.
 */
import { SWFClient } from '@aws-sdk/client-swf';
export const client = new SWFClient({});
