export * from './swf-terminator';
export { BUNDLE_AWS_SDK, HANDLER_RUNTIME } from './handler-bundling';
